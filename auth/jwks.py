"""The identity provider's JWKS: fetched, cached, refreshed on rotation, never per request.

    never fetched ─────────────────────────────────▶ fetch and wait (at most once per min_refresh_s)
    key set older than cache_s ────────────────────▶ serve it now; refresh in the background
    unknown kid ──(last attempt ≥ min_refresh_s ago)▶ fetch and wait, then look again
    unknown kid ──(a fetch is in flight)────────────▶ wait for that fetch, then look again
    unknown kid ──(attempted recently)──────────────▶ no fetch: the token is refused

A request waits for the identity provider only when the key it needs cannot be in the set it
has: a slow or unreachable provider never stalls tokens signed with a key already known. There is
at most one fetch in flight (a task every caller shares), and a new one starts at most once per
`min_refresh_s`, so a burst of tokens with a new `kid` makes one request and a flood of random
`kid`s at most one per interval; a failed fetch keeps the last set. The fetch itself is a callable
(aiohttp in the gateway, a scripted function in unit tests) and the clock is injected.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from auth.keys import KeySet

__all__ = ["MAX_JWKS_BYTES", "JwksSource", "JwksUnavailable", "fetch_jwks"]

log = logging.getLogger("panjereh.auth")

MAX_JWKS_BYTES = 512 * 1024

Fetch = Callable[[], Awaitable[dict[str, Any]]]


class JwksUnavailable(Exception):
    """The JWKS could not be fetched or parsed (logged; tokens then verify against the last set)."""


def fetch_jwks(session: aiohttp.ClientSession, url: str, *, timeout_s: float) -> Fetch:
    """A fetch of `url` through the app's session, bounded in time and size."""

    async def fetch() -> dict[str, Any]:
        try:
            async with session.get(
                url, timeout=aiohttp.ClientTimeout(total=timeout_s), allow_redirects=False
            ) as response:
                if response.status != 200:
                    raise JwksUnavailable(f"HTTP {response.status}")
                body = await response.content.read(MAX_JWKS_BYTES + 1)
                if len(body) > MAX_JWKS_BYTES:
                    raise JwksUnavailable("larger than the allowed size")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise JwksUnavailable(type(exc).__name__) from exc
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise JwksUnavailable("not JSON") from exc
        if not isinstance(document, dict):
            raise JwksUnavailable("not a JSON object")
        return document

    return fetch


class JwksSource:
    """The current key set of one JWKS, kept fresh as described above."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        cache_s: float = 300.0,
        min_refresh_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._cache_s = cache_s
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._keys = KeySet()
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._refreshing: asyncio.Task[None] | None = None
        self.fetches = 0

    async def keys(self) -> KeySet:
        """The key set; waits for a fetch only if none ever succeeded, else refreshes a stale
        set in the background and answers with it at once."""
        if self._fetched_at is None:
            await self._wait_for(self._refresh_started())
        elif self._clock() - self._fetched_at >= self._cache_s:
            self._refresh_started()
        return self._keys

    async def keys_with(self, kid: str) -> KeySet:
        """The key set, after waiting for a refresh (in flight, or started now unless one was
        attempted recently) if it lacks `kid`."""
        keys = await self.keys()
        if kid not in keys.by_kid:
            await self._wait_for(self._refresh_started())
        return self._keys

    async def settled(self) -> None:
        """Wait for the refresh in flight, if any (tests, to observe a background refresh)."""
        await self._wait_for(self._refreshing)

    async def aclose(self) -> None:
        """Cancel the refresh in flight: the session it fetches through is closing."""
        task, self._refreshing = self._refreshing, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _refresh_started(self) -> asyncio.Task[None] | None:
        """The refresh in flight, or a new one if the last attempt is old enough, or None."""
        if self._refreshing is not None and not self._refreshing.done():
            return self._refreshing
        if self._attempted_at is not None and (
            self._clock() - self._attempted_at < self._min_refresh_s
        ):
            return None
        self._attempted_at = self._clock()
        self.fetches += 1
        self._refreshing = asyncio.create_task(self._refresh(), name="jwks-refresh")
        return self._refreshing

    @staticmethod
    async def _wait_for(task: asyncio.Task[None] | None) -> None:
        if task is not None:
            # Shielded: a caller that gives up (a client gone) does not cancel everyone's fetch.
            await asyncio.shield(task)

    async def _refresh(self) -> None:
        try:
            keys = KeySet.from_jwks(await self._fetch())
        except (JwksUnavailable, ValueError) as exc:
            log.warning("JWKS refresh failed (%s); keeping %d keys", exc, len(self._keys.by_kid))
            return
        self._keys = keys
        self._fetched_at = self._clock()
        log.info("JWKS refreshed: %d keys", len(keys.by_kid))
