"""Moving-window counting on a shared storage (Redis), falling back to memory when it fails.

    hit(items, ids) ──▶ primary (Redis)  ── fails ──▶ memory, for `retry_after_s`
                              ▲                          │
                              └──── one probe, then ◀────┘

As `cache.fallback.FallbackCache` does for the cache: when the primary raises or is slower than
`timeout_s`, that count and every count for the next `retry_after_s` seconds go to an in-memory
storage; then one call probes the primary again, and a probe that succeeds ends the degraded
period. While degraded each instance enforces its budgets alone (so a caller spread over N
instances may get up to N budgets) — never no limit, and never a refusal for our fault.

One warning is logged when the primary is lost and one info line when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

__all__ = ["Windows"]

log = logging.getLogger(__name__)


class Windows:
    """Counts hits against limit items; says how long to wait when one is full."""

    def __init__(
        self,
        primary: Storage | None,
        *,
        retry_after_s: float = 2.0,
        timeout_s: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """`primary` None: memory only (the embedded default). `wall_clock` must be the clock
        the storages stamp entries with (`limits` uses `time.time`)."""
        self.primary = primary
        self.memory = MemoryStorage()
        self._shared = MovingWindowRateLimiter(primary) if primary is not None else None
        self._local = MovingWindowRateLimiter(self.memory)
        self._retry_after = retry_after_s
        self._timeout = timeout_s
        self._clock = clock
        self._wall = wall_clock
        self._down_until: float | None = None
        self._probing = False

    @property
    def degraded(self) -> bool:
        """True while counts are kept in memory because the shared storage failed."""
        return self._down_until is not None

    async def hit(self, items: Sequence[RateLimitItem], *ids: str, cost: int = 1) -> float | None:
        """Count one hit of `cost` in every window of `items` (shortest first); None when all
        had room, else the seconds until the window that refused has room again.

        A refusal by a longer window still counts in the shorter ones before it: that only
        slows a caller who is already over budget, and refused hits never consume the window
        that refused them.
        """
        if self._shared is not None and self._shared_allowed():
            probe = self.degraded
            if probe:
                self._probing = True
            try:
                async with asyncio.timeout(self._timeout):
                    wait = await self._hit(self._shared, items, ids, cost)
            except Exception as exc:  # any storage fault: count in memory instead
                self._failed(exc)
            else:
                if probe:
                    self._recovered()
                return wait
            finally:
                if probe:
                    self._probing = False
        return await self._hit(self._local, items, ids, cost)

    async def _hit(
        self,
        strategy: MovingWindowRateLimiter,
        items: Sequence[RateLimitItem],
        ids: Sequence[str],
        cost: int,
    ) -> float | None:
        for item in items:
            if not await strategy.hit(item, *ids, cost=cost):
                stats = await strategy.get_window_stats(item, *ids)
                return max(1.0, stats.reset_time - self._wall())
        return None

    def _shared_allowed(self) -> bool:
        if self._down_until is None:
            return True
        return not self._probing and self._clock() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        now = self._clock()
        if self._down_until is None:
            log.warning(
                "rate-limit storage failed (%s); counting in memory, next try in %.1f s",
                type(exc).__name__,
                self._retry_after,
            )
        self._down_until = now + self._retry_after

    def _recovered(self) -> None:
        self._down_until = None
        log.info("rate-limit storage answers again; counting there again")
