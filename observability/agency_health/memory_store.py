"""The health store of one process: the embedded default, and the fallback while Redis is down.

It keeps what `RedisHealthStore` keeps, for as long (the same `*_KEEP_S`), dropping what is
older once a minute (on any write or read of tallies), so a long-running gateway holds at most
~2 h of minutes and ~8 days of hours per agency, and `max_incidents` closed incidents.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from observability.agency_health.model import Incident
from observability.agency_health.store import (
    HOUR_KEEP_S,
    MINUTE_KEEP_S,
    ROLL_MARK_KEEP_S,
    UNCHECKED,
    AgencyRecord,
    Unchecked,
    may_replace,
)
from observability.agency_health.tally import Shares, Tally

__all__ = ["MemoryHealthStore"]


class MemoryHealthStore:
    """`HealthStore` in dictionaries; `clock` is unix time (tests move it)."""

    name = "memory"

    def __init__(self, *, max_incidents: int = 200, clock: Callable[[], float] = time.time) -> None:
        self._max_incidents = max_incidents
        self._clock = clock
        self._minutes: dict[tuple[str, int], Tally] = {}
        self._hours: dict[tuple[str, int], Shares] = {}
        self._rolled: set[tuple[str, int]] = set()
        self._ticks: dict[str, Tally] = {}
        self._records: dict[str, AgencyRecord] = {}
        self._closed: dict[str, deque[Incident]] = {}
        self._swept = -1  # the minute of the last sweep for old entries

    async def add(
        self, minutes: Mapping[tuple[str, int], Tally], ticks: Mapping[str, Tally]
    ) -> None:
        for key, tally in minutes.items():
            self._minutes.setdefault(key, Tally()).merge(tally)
        for agency, tally in ticks.items():
            self._ticks.setdefault(agency, Tally()).merge(tally)
        self._forget_old()

    async def minutes(self, agency: str, indices: Sequence[int]) -> dict[int, Tally]:
        self._forget_old()
        found = {}
        for minute in indices:
            tally = self._minutes.get((agency, minute))
            if tally is not None:
                copy = Tally()
                copy.merge(tally)
                found[minute] = copy
        return found

    async def hours(self, agency: str, indices: Sequence[int]) -> dict[int, Shares]:
        self._forget_old()
        found = {}
        for hour in indices:
            shares = self._hours.get((agency, hour))
            if shares is not None:
                found[hour] = Shares.total([shares])
        return found

    async def roll_up(self, agency: str, minutes: Mapping[int, Shares]) -> set[int]:
        rolled = set()
        for minute, shares in minutes.items():
            if (agency, minute) in self._rolled:
                continue
            self._rolled.add((agency, minute))
            self._hours.setdefault((agency, minute // 60), Shares()).merge(shares)
            rolled.add(minute)
        self._forget_old()
        return rolled

    async def take_tick(self, agency: str) -> Tally:
        return self._ticks.pop(agency, None) or Tally()

    async def records(self, agencies: Sequence[str]) -> dict[str, AgencyRecord]:
        return {a: self._records[a] for a in agencies if a in self._records}

    async def save(
        self,
        record: AgencyRecord,
        closed: Incident | None = None,
        *,
        replacing: float | Unchecked | None = UNCHECKED,
    ) -> bool:
        if not may_replace(self._records.get(record.agency), replacing):
            return False
        self._records[record.agency] = record
        if closed is not None:
            kept = self._closed.setdefault(record.agency, deque(maxlen=self._max_incidents))
            kept.appendleft(closed)
        return True

    async def closed_incidents(self, agency: str, first: int) -> list[Incident]:
        return list(self._closed.get(agency, ()))[:first]

    async def close(self) -> None:
        return None

    def _forget_old(self) -> None:
        now = self._clock()
        if int(now // 60) == self._swept:
            return  # once a minute is enough: nothing expires faster
        self._swept = int(now // 60)
        oldest_minute = int((now - MINUTE_KEEP_S) // 60)
        oldest_hour = int((now - HOUR_KEEP_S) // 3600)
        oldest_mark = int((now - ROLL_MARK_KEEP_S) // 60)
        for key in [k for k in self._minutes if k[1] < oldest_minute]:
            del self._minutes[key]
        for key in [k for k in self._hours if k[1] < oldest_hour]:
            del self._hours[key]
        self._rolled = {k for k in self._rolled if k[1] >= oldest_mark}
