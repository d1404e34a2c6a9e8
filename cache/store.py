"""The typed cache above the byte backends.

Owns, once for every backend: key namespacing and keyed hashing (no national code ever appears in
a key), the entry envelope (when it was fetched, until when it is fresh, whether it is a negative
"not found" entry), timeouts on backend calls, and the hit/miss/stale metrics. A backend failure is
a miss plus a log line, never an error for the client.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from cache.backend import CacheBackend
from observability.metrics import Metrics

__all__ = ["CacheEntry", "CacheStore"]

log = logging.getLogger(__name__)

# flags (1 byte), fetched_at (unix s), fresh_until (unix s); payload follows.
_HEADER = struct.Struct("!Bdd")
_NOT_FOUND = 0x01


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One cached answer of an agency, with the times that decide how it may be served."""

    payload: bytes
    fetched_at: float
    fresh_until: float
    not_found: bool = False

    def is_fresh(self, now: float) -> bool:
        return now < self.fresh_until


class CacheStore:
    """Namespaced, keyed-hash cache of agency answers over any `CacheBackend`."""

    def __init__(
        self,
        backend: CacheBackend,
        *,
        key_secret: bytes,
        metrics: Metrics,
        namespace: str = "panjereh",
        op_timeout: float = 0.25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self._secret = key_secret
        self._metrics = metrics
        self._namespace = namespace
        self._timeout = op_timeout
        self.clock = clock

    def key_for(self, agency: str, kind: str, subject: str) -> str:
        """`namespace:agency:kind:<hmac>`: stable across instances sharing the secret, opaque."""
        digest = hmac.new(self._secret, subject.encode(), hashlib.sha256).hexdigest()[:40]
        return f"{self._namespace}:{agency}:{kind}:{digest}"

    async def ping(self) -> bool:
        """Whether the backend answers a read within the cache timeout."""
        try:
            async with asyncio.timeout(self._timeout):
                await self.backend.get(f"{self._namespace}:ping")
        except Exception:  # any backend fault means "not reachable", never an error
            return False
        return True

    async def lookup(self, agency: str, kind: str, subject: str) -> CacheEntry | None:
        """The cached entry, fresh or stale, or None; a backend failure counts as a miss."""
        key = self.key_for(agency, kind, subject)
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self.backend.get(key)
        except Exception as exc:  # any backend fault must degrade to a miss
            log.warning("cache get failed on %s: %s", self.backend.name, type(exc).__name__)
            self._metrics.cache_lookups.labels(kind, "error").inc()
            return None
        entry = _decode(raw) if raw is not None else None
        result = "miss" if entry is None else "hit" if entry.is_fresh(self.clock()) else "stale"
        self._metrics.cache_lookups.labels(kind, result).inc()
        return entry

    async def store(
        self,
        agency: str,
        kind: str,
        subject: str,
        payload: bytes,
        *,
        fresh_ttl: float,
        stale_ttl: float,
        not_found: bool = False,
    ) -> CacheEntry:
        """Store an answer: fresh for `fresh_ttl` s, kept (servable as stale) for `stale_ttl` s."""
        now = self.clock()
        entry = CacheEntry(payload, now, now + fresh_ttl, not_found)
        keep = max(fresh_ttl, stale_ttl)
        if keep > 0:
            raw = _HEADER.pack(_NOT_FOUND if not_found else 0, now, now + fresh_ttl) + payload
            try:
                async with asyncio.timeout(self._timeout):
                    await self.backend.set(self.key_for(agency, kind, subject), raw, keep)
            except Exception as exc:  # a cache that cannot store costs speed, not correctness
                log.warning("cache set failed on %s: %s", self.backend.name, type(exc).__name__)
        return entry


def _decode(raw: bytes) -> CacheEntry | None:
    if len(raw) < _HEADER.size:
        return None
    flags, fetched_at, fresh_until = _HEADER.unpack_from(raw)
    return CacheEntry(raw[_HEADER.size :], fetched_at, fresh_until, bool(flags & _NOT_FOUND))
