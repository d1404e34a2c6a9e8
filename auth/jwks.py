"""The identity provider's JWKS: fetched, cached, refreshed on rotation, never per request.

    key set ──(older than cache_s)──────────────▶ refetch on next use; on failure keep the old set
    unknown kid ──(last fetch ≥ min_refresh_s ago)─▶ refetch once, then look again
    unknown kid ──(fetched recently)───────────────▶ no fetch: the token is refused

One fetch at a time (a lock), so a burst of tokens with a new `kid` makes one request, and a
flood of random `kid`s makes at most one request per `min_refresh_s`. The fetch itself is a
callable (aiohttp in the gateway, a scripted function in unit tests) and the clock is injected.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from auth.keys import KeySet

__all__ = ["MAX_JWKS_BYTES", "JwksSource", "fetch_jwks"]

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
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def keys(self) -> KeySet:
        """The key set, refetched first if it is older than `cache_s` (or never fetched)."""
        if self._fetched_at is None or self._clock() - self._fetched_at >= self._cache_s:
            await self._refresh(self._may_retry)
        return self._keys

    async def keys_with(self, kid: str) -> KeySet:
        """The key set, refetched first if it lacks `kid` and no fetch happened recently."""
        keys = await self.keys()
        if kid not in keys.by_kid:
            await self._refresh(lambda: kid not in self._keys.by_kid and self._may_retry())
        return self._keys

    def _may_retry(self) -> bool:
        return self._attempted_at is None or (
            self._clock() - self._attempted_at >= self._min_refresh_s
        )

    async def _refresh(self, still_needed: Callable[[], bool]) -> None:
        async with self._lock:
            if not still_needed():  # another task refreshed while this one waited
                return
            self._attempted_at = self._clock()
            self.fetches += 1
            try:
                keys = KeySet.from_jwks(await self._fetch())
            except (JwksUnavailable, ValueError) as exc:
                log.warning(
                    "JWKS refresh failed (%s); keeping %d keys", exc, len(self._keys.by_kid)
                )
                return
            self._keys = keys
            self._fetched_at = self._clock()
            log.info("JWKS refreshed: %d keys", len(keys.by_kid))
