"""A cache backend that keeps answering when its shared backend (Redis) does not.

`FallbackCache` sends every call to the primary. When the primary raises, that call and every
call for the next `retry_after_s` seconds go to the fallback (a `MemoryCache`) without touching
the primary; then the next call probes the primary again (one probe at a time, the others keep
using the fallback), and a probe that succeeds ends the degraded period.

What a degraded period costs: entries and leases live in this process only, so instances stop
sharing fills and singleflight leases; writes and deletes made meanwhile are not replayed to the
primary afterwards (its entries expire by their own TTLs, which the cache store's freshness
envelope already accounts for). What it never costs is an error for the caller.

One warning is logged when the primary is lost and one info line when it is back; failed
probes in between only count in `panjereh_cache_backend_errors_total`. No key or value is ever
logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from cache.backend import CacheBackend
from observability.metrics import Metrics

__all__ = ["FallbackCache"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class FallbackCache:
    """A `CacheBackend` over a primary and a fallback; never raises to its caller."""

    def __init__(
        self,
        primary: CacheBackend,
        fallback: CacheBackend,
        *,
        metrics: Metrics,
        retry_after_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        primary_timeout_s: float | None = 0.2,
    ) -> None:
        """`primary_timeout_s` bounds each primary call on top of the client's own socket
        timeouts (None: no bound). Keep it below `CacheStore`'s `op_timeout` (0.25 s by default):
        a slow primary must fail here, where it sends calls to the fallback, and not be
        cancelled from above, where it would only be a miss every time."""
        if retry_after_s < 0:
            raise ValueError("retry_after_s must not be negative")
        if primary_timeout_s is not None and primary_timeout_s <= 0:
            raise ValueError("primary_timeout_s must be positive")
        self.primary = primary
        self.fallback = fallback
        self._metrics = metrics
        self._retry_after = retry_after_s
        self._clock = clock
        self._timeout = primary_timeout_s
        self._down_until: float | None = None  # None while the primary is trusted
        self._down_since = 0.0
        self._probing = False
        self._errors = metrics.cache_backend_errors.labels(primary.name)
        metrics.cache_degraded.set(0)

    @property
    def degraded(self) -> bool:
        """True while calls are served from the fallback because the primary failed."""
        return self._down_until is not None

    @property
    def name(self) -> str:
        if self.degraded:
            return f"{self.primary.name}(degraded→{self.fallback.name})"
        return self.primary.name

    async def get(self, key: str) -> bytes | None:
        return await self._call(lambda b: b.get(key), None)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self._call(lambda b: b.set(key, value, ttl), None)

    async def add(self, key: str, value: bytes, ttl: float) -> bool:
        # When even the fallback fails, grant the lease: every caller then loads for itself,
        # which costs upstream calls but never availability (as `CacheStore` does).
        return await self._call(lambda b: b.add(key, value, ttl), True)

    async def delete(self, key: str) -> None:
        await self._call(lambda b: b.delete(key), None)

    async def delete_if(self, key: str, value: bytes) -> bool:
        return await self._call(lambda b: b.delete_if(key, value), False)

    async def close(self) -> None:
        for backend in (self.primary, self.fallback):
            try:
                await backend.close()
            except Exception as exc:  # closing is best effort, and never the caller's problem
                log.debug("closing cache backend %s failed: %s", backend.name, type(exc).__name__)

    async def _call(self, op: Callable[[CacheBackend], Awaitable[T]], failed: T) -> T:
        if self._primary_allowed():
            probe = self.degraded
            if probe:
                self._probing = True
            try:
                result = await self._on_primary(op)
            except Exception as exc:  # any primary fault sends the call to the fallback
                self._primary_failed(exc, probe)
            else:
                if probe:
                    self._recovered()
                return result
            finally:
                if probe:
                    self._probing = False
        try:
            return await op(self.fallback)
        except Exception as exc:  # the fallback is memory and should not fail; if it does, a miss
            log.debug("cache fallback %s failed: %s", self.fallback.name, type(exc).__name__)
            return failed

    def _primary_allowed(self) -> bool:
        if self._down_until is None:
            return True
        return not self._probing and self._clock() >= self._down_until

    async def _on_primary(self, op: Callable[[CacheBackend], Awaitable[T]]) -> T:
        if self._timeout is None:
            return await op(self.primary)
        async with asyncio.timeout(self._timeout):
            return await op(self.primary)

    def _primary_failed(self, exc: Exception, probe: bool) -> None:
        self._errors.inc()
        now = self._clock()
        if self._down_until is None:
            self._down_since = now
            self._metrics.cache_degraded.set(1)
            log.warning(
                "cache backend %s failed (%s); serving from %s, next try in %.1f s",
                self.primary.name,
                type(exc).__name__,
                self.fallback.name,
                self._retry_after,
            )
        elif probe:
            log.debug("cache backend %s still failing (%s)", self.primary.name, type(exc).__name__)
        self._down_until = max(self._down_until or now, now + self._retry_after)

    def _recovered(self) -> None:
        if self._down_until is None:
            return
        self._down_until = None
        self._metrics.cache_degraded.set(0)
        log.info(
            "cache backend %s recovered after %.1f s; serving from it again",
            self.primary.name,
            self._clock() - self._down_since,
        )
