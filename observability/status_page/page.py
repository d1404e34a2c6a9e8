"""`/status`: the rendered page, kept a few seconds per language and rendered once at a time.

    GET /status[?lang=en] ─▶ kept page for that language, younger than render_every_s? ─ yes ─▶ it
                                    │ no
                                    ▼
                  a render of that language already running? ─ yes ─▶ wait for it (single flight)
                                    │ no
                                    ▼
                  read the board from the HealthBook, word it, fill the template, gzip it once
                                    │ fails (the book cannot be read)
                                    ▼
                  the last page rendered, whatever its age (it says when it was updated), or 503

So however many readers poll, the book is read and the page rendered at most once per language
per `render_every_s`; each answer is bytes already made, gzipped once per render, with an ETag
so a reloading browser gets a 304. The language is one of two values, never the raw query:
anything but `lang=en` is the Persian page, so the kept pages are bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import inf

from aiohttp import web

from observability.agency_health.model import HealthBook
from observability.status_page.board import AgencyName, read_board
from observability.status_page.render import (
    CONTENT_SECURITY_POLICY,
    render_page,
    render_unavailable,
)
from observability.status_page.settings import StatusPageSettings
from observability.status_page.words import Lang, words_for

__all__ = ["Rendered", "StatusPage", "status_routes"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rendered:
    """One language's page as it is sent: plain and gzipped, with their ETag stem."""

    lang: Lang
    body: bytes
    gzipped: bytes
    etag: str
    rendered_at: float  # monotonic seconds


def _rendered(lang: Lang, html: str, at: float) -> Rendered:
    body = html.encode("utf-8")
    digest = hashlib.blake2b(body, digest_size=12).hexdigest()
    # mtime=0: the same page gzips to the same bytes, whenever it was rendered
    return Rendered(lang, body, gzip.compress(body, compresslevel=6, mtime=0), digest, at)


class StatusPage:
    """The rendered status page, kept per language; see the module docstring.

    `now` (unix seconds, what the page says) and `clock` (monotonic, how old a kept page is)
    are injectable so tests move time instead of waiting.
    """

    def __init__(
        self,
        book: HealthBook,
        names: Sequence[AgencyName],
        settings: StatusPageSettings | None = None,
        *,
        now: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.book = book
        self.names = list(names)
        self.settings = settings or StatusPageSettings()
        self._now = now
        self._clock = clock
        self._kept: dict[Lang, Rendered] = {}
        self._running: dict[Lang, asyncio.Task[Rendered]] = {}
        self._failed: dict[Lang, float] = {}
        self.renders = 0
        """Renders started (successful or not): what the single flight keeps low."""

    async def page(self, lang: Lang) -> Rendered | None:
        """The page in `lang`, at most `render_every_s` old when the book can be read; else the
        last one rendered, or None if there is none. A failed render is not tried again for
        `render_every_s` either: a broken book is not hammered by every reader."""
        kept = self._kept.get(lang)
        age = self._clock() - max(kept.rendered_at if kept else -inf, self._failed.get(lang, -inf))
        if age < self.settings.render_every_s:
            return kept
        task = self._running.get(lang)
        if task is None:
            task = asyncio.create_task(self._render(lang), name=f"status-page-{lang}")
            self._running[lang] = task
            task.add_done_callback(lambda done: self._finished(lang, done))
        try:
            # shield: a reader who gives up must not cancel the render the others wait for
            return await asyncio.shield(task)
        except Exception:  # logged once in _finished, not once per waiting reader
            return self._kept.get(lang)

    async def close(self) -> None:
        """Stop renders in flight (at app shutdown)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    async def _render(self, lang: Lang) -> Rendered:
        self.renders += 1
        board = await read_board(
            self.book, self.names, now=self._now(), incidents=self.settings.incidents
        )
        html = render_page(board, words_for(lang), refresh_s=self.settings.refresh_s)
        rendered = _rendered(lang, html, self._clock())
        self._kept[lang] = rendered
        return rendered

    def _finished(self, lang: Lang, task: asyncio.Task[Rendered]) -> None:
        if self._running.get(lang) is task:
            del self._running[lang]
        if task.cancelled():
            return
        exc = task.exception()  # retrieved here, so a render nobody awaited logs no warning
        if exc is not None:  # the book could not be read: its backend's errors vary
            self._failed[lang] = self._clock()
            log.warning("status page not rendered: %s: %s", type(exc).__name__, exc)


def status_routes(page: web.AppKey[StatusPage]) -> list[web.RouteDef]:
    """`GET /status` (and HEAD); the page object is looked up per request as it starts later."""

    async def status(request: web.Request) -> web.Response:
        lang: Lang = "en" if request.query.get("lang") == "en" else "fa"
        headers = {
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Language": lang,
            "Vary": "Accept-Encoding",
        }
        status_page = request.app.get(page)
        rendered = await status_page.page(lang) if status_page is not None else None
        if status_page is None or rendered is None:  # starting, or the book cannot be read
            settings = status_page.settings if status_page else StatusPageSettings()
            body = render_unavailable(words_for(lang), refresh_s=settings.refresh_s).encode()
            headers["Cache-Control"] = "no-store"
            headers["Retry-After"] = "5"
            return web.Response(
                status=503, body=body, headers=headers, content_type="text/html", charset="utf-8"
            )
        zipped = _accepts_gzip(request.headers.get("Accept-Encoding", ""))
        etag = f'"{rendered.etag}{"-gz" if zipped else ""}"'
        headers["ETag"] = etag
        max_age = max(1, round(status_page.settings.render_every_s))
        headers["Cache-Control"] = f"public, max-age={max_age}"
        if _matches(request.headers.get("If-None-Match", ""), etag):
            return web.Response(status=304, headers=headers)
        if zipped:
            headers["Content-Encoding"] = "gzip"
        return web.Response(
            body=rendered.gzipped if zipped else rendered.body,
            headers=headers,
            content_type="text/html",
            charset="utf-8",
        )

    return [web.get("/status", status)]


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether `gzip` is listed and not refused with `q=0`."""
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if coding.lower() not in ("gzip", "x-gzip"):
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return etag in tags or "*" in tags
