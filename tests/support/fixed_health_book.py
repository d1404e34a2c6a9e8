"""A HealthBook holding fixed answers: a stand-in for the data source of whatever reads it.

For unit tests of readers (the status page): they get snapshots, bars, availability and
incidents chosen by the test, and the test sees how often each was asked for. `gate`, when set,
holds `snapshots()` until the test opens it; `failing` makes every read raise.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

from observability.agency_health.model import (
    AgencySnapshot,
    Availability,
    AvailabilityBar,
    Incident,
    Sample,
    StateChange,
    Window,
)

__all__ = ["FixedHealthBook", "bars_of"]


def bars_of(window: Window, end: float, ratios: Sequence[float | None]) -> list[AvailabilityBar]:
    """Bars ending at `end`, oldest first, one per ratio (hours for DAY, days for WEEK)."""
    width = 3600 if window is Window.DAY else 86400
    start = end - width * len(ratios)
    return [
        AvailabilityBar(starts_at=start + i * width, seconds=width, ratio=r, maintenance=False)
        for i, r in enumerate(ratios)
    ]


@dataclass
class FixedHealthBook:
    snapshots_: Sequence[AgencySnapshot]
    bars_: Mapping[tuple[str, Window], Sequence[AvailabilityBar]] = field(default_factory=dict)
    availability_: Mapping[tuple[str, Window], Availability] = field(default_factory=dict)
    incidents_: Sequence[Incident] = ()
    gate: asyncio.Event | None = None
    failing: Exception | None = None
    calls: Counter[str] = field(default_factory=Counter)

    def record(self, sample: Sample) -> None:
        self.calls["record"] += 1

    async def _read(self, what: str) -> None:
        self.calls[what] += 1
        if self.failing is not None:
            raise self.failing

    async def snapshot(self, agency: str) -> AgencySnapshot:
        await self._read("snapshot")
        return next(s for s in self.snapshots_ if s.agency == agency)

    async def snapshots(self) -> list[AgencySnapshot]:
        await self._read("snapshots")
        if self.gate is not None:
            await self.gate.wait()
        return list(self.snapshots_)

    async def availability(self, agency: str, window: Window) -> Availability:
        await self._read("availability")
        return self.availability_.get((agency, window), Availability(window, None, None))

    async def bars(self, agency: str, window: Window) -> list[AvailabilityBar]:
        await self._read("bars")
        return list(self.bars_.get((agency, window), ()))

    async def incidents(self, agency: str | None, first: int) -> list[Incident]:
        await self._read("incidents")
        found = [i for i in self.incidents_ if agency is None or i.agency == agency]
        return sorted(found, key=lambda i: i.started_at, reverse=True)[:first]

    async def changes(self) -> AsyncIterator[StateChange]:
        return
        yield
