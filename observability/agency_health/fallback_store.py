"""A health store that keeps answering when Redis does not: Redis first, memory behind it.

Writes go to both: the memory keeps this instance's own samples, records and incidents, and
the records it last read from Redis, so that when Redis fails the book goes on judging and
answering from what this instance knows (its own calls and probes; with the lease lost to the
outage it probes every agency itself). While Redis is down (and for `retry_after_s` after each
failure) it is not tried; then the next call tries it again, and one that works ends the
outage. Nothing written meanwhile is replayed: the fleet's history has this instance's gap.

One warning when Redis is lost, one info line when it is back; no key or value is logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from observability.agency_health.memory_store import MemoryHealthStore
from observability.agency_health.model import Incident
from observability.agency_health.store import UNCHECKED, AgencyRecord, HealthStore, Unchecked
from observability.agency_health.tally import Shares, Tally

__all__ = ["FallbackHealthStore"]

log = logging.getLogger("panjereh.health")

T = TypeVar("T")


class FallbackHealthStore:
    """`HealthStore` over a shared primary and this process's memory; never raises."""

    def __init__(
        self,
        primary: HealthStore,
        memory: MemoryHealthStore,
        *,
        timeout_s: float = 0.5,
        retry_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.memory = memory
        self._timeout = timeout_s
        self._retry_after = retry_after_s
        self._clock = clock
        self._down_until: float | None = None  # None while the primary is trusted
        self._down_since = 0.0

    @property
    def degraded(self) -> bool:
        """True while answers come from memory because the primary failed."""
        return self._down_until is not None

    @property
    def name(self) -> str:
        return f"{self.primary.name}(degraded→memory)" if self.degraded else self.primary.name

    async def add(
        self, minutes: Mapping[tuple[str, int], Tally], ticks: Mapping[str, Tally]
    ) -> None:
        await self.memory.add(minutes, ticks)
        await self._on_primary(lambda: self.primary.add(minutes, ticks), None)

    async def minutes(self, agency: str, indices: Sequence[int]) -> dict[int, Tally]:
        return await self._read(lambda s: s.minutes(agency, indices))

    async def hours(self, agency: str, indices: Sequence[int]) -> dict[int, Shares]:
        return await self._read(lambda s: s.hours(agency, indices))

    async def roll_up(self, agency: str, minutes: Mapping[int, Shares]) -> set[int]:
        mine = await self.memory.roll_up(agency, minutes)
        return await self._on_primary(lambda: self.primary.roll_up(agency, minutes), mine)

    async def take_tick(self, agency: str) -> Tally:
        mine = await self.memory.take_tick(agency)  # taken either way: it must not pile up
        return await self._on_primary(lambda: self.primary.take_tick(agency), mine)

    async def records(self, agencies: Sequence[str]) -> dict[str, AgencyRecord]:
        """The newest record of each agency, Redis's or this instance's: one judged here while
        Redis was down (or lost with a Redis that restarted empty) carries on from memory."""
        mine = await self.memory.records(agencies)
        shared = await self._on_primary(lambda: self.primary.records(agencies), None)
        if shared is None:
            return mine
        newest = dict(mine)
        for agency, record in shared.items():
            if agency not in newest or record.at >= newest[agency].at:
                newest[agency] = record
                await self.memory.save(record)  # what to judge on from, should Redis fail
        return newest

    async def save(
        self,
        record: AgencyRecord,
        closed: Incident | None = None,
        *,
        replacing: float | Unchecked | None = UNCHECKED,
    ) -> bool:
        """Redis decides whether the record replaces the stored one; while Redis is down, this
        instance's memory does. The memory keeps what was written either way."""
        saved = await self._on_primary(
            lambda: self.primary.save(record, closed, replacing=replacing), None
        )
        if saved is None:  # Redis failed: the memory is the store
            return await self.memory.save(record, closed, replacing=replacing)
        if saved:
            await self.memory.save(record, closed)
        return saved

    async def closed_incidents(self, agency: str, first: int) -> list[Incident]:
        return await self._read(lambda s: s.closed_incidents(agency, first))

    async def close(self) -> None:
        try:
            await self.primary.close()
        except Exception as exc:  # closing is best effort
            log.debug("closing the health store %s failed: %s", self.primary.name, exc)

    async def _read(self, read: Callable[[HealthStore], Awaitable[T]]) -> T:
        missing = object()
        answer = await self._on_primary(lambda: read(self.primary), missing)
        if answer is missing:
            return await read(self.memory)
        return answer  # type: ignore[return-value]

    async def _on_primary(self, call: Callable[[], Awaitable[T]], failed: T) -> T:
        if self._down_until is not None and self._clock() < self._down_until:
            return failed
        try:
            async with asyncio.timeout(self._timeout):
                answer = await call()
        except Exception as exc:  # any primary fault: memory answers, the caller never sees it
            self._failed(exc)
            return failed
        if self._down_until is not None:
            self._down_until = None
            log.info(
                "health store %s is back after %.1f s; the fleet's state is shared again",
                self.primary.name,
                self._clock() - self._down_since,
            )
        return answer

    def _failed(self, exc: Exception) -> None:
        now = self._clock()
        if self._down_until is None:
            self._down_since = now
            log.warning(
                "health store %s failed (%s); judging and answering from this instance's "
                "memory, next try in %.1f s",
                self.primary.name,
                type(exc).__name__,
                self._retry_after,
            )
        self._down_until = now + self._retry_after
