"""What the status page shows, read from the HealthBook in one go: the board.

The board is language-neutral (the renderer words it) and holds nothing but agency health:
states, availability, bars, incidents and maintenance windows. A window's `note` is set by
ops and is left out on purpose: free text written for colleagues has no place on a public page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from connectors.pipeline.base import AgencyConnector
from observability.agency_health.model import (
    AgencySnapshot,
    Availability,
    AvailabilityBar,
    HealthBook,
    Incident,
    Window,
)

__all__ = ["AgencyBoard", "AgencyName", "Board", "agency_names", "read_board"]

T = TypeVar("T")

RECENT_S = Window.WEEK.seconds
"""An incident that ended longer ago than this is no longer recent."""


@dataclass(frozen=True, slots=True)
class AgencyName:
    """An agency's id and what people call it in Persian and in English."""

    agency: str
    fa: str
    en: str


def agency_names(connectors: Iterable[AgencyConnector]) -> list[AgencyName]:
    """Each agency's Persian and English name, as its connector declares them."""
    names = []
    for connector in connectors:
        names.append(AgencyName(connector.agency_id, connector.name_fa, connector.name_en))
    return names


@dataclass(frozen=True, slots=True)
class AgencyBoard:
    """One agency's row."""

    name: AgencyName
    snapshot: AgencySnapshot
    day: Availability
    week: Availability
    hours: Sequence[AvailabilityBar]  # 24, oldest first
    days: Sequence[AvailabilityBar]  # 7, oldest first
    incidents: Sequence[Incident]  # newest first, ongoing or ended within RECENT_S


@dataclass(frozen=True, slots=True)
class Board:
    at: float  # unix seconds the board was read
    agencies: Sequence[AgencyBoard]


async def read_board(
    book: HealthBook, names: Sequence[AgencyName], *, now: float, incidents: int
) -> Board:
    """Every named agency (in the given order), then any other agency the book knows.

    One `snapshots()` call, then each agency's bars, availability and incidents concurrently.
    """
    snapshots = {s.agency: s for s in await book.snapshots()}
    known = {n.agency for n in names}
    everyone = [*names, *(AgencyName(a, a, a) for a in sorted(snapshots) if a not in known)]
    rows = await asyncio.gather(
        *(_agency(book, name, snapshots.get(name.agency), now, incidents) for name in everyone)
    )
    return Board(at=now, agencies=rows)


async def _agency(
    book: HealthBook,
    name: AgencyName,
    snapshot: AgencySnapshot | None,
    now: float,
    incidents: int,
) -> AgencyBoard:
    agency = name.agency
    snap, day, week, hours, days, recent = await asyncio.gather(
        book.snapshot(agency) if snapshot is None else _given(snapshot),
        book.availability(agency, Window.DAY),
        book.availability(agency, Window.WEEK),
        book.bars(agency, Window.DAY),
        book.bars(agency, Window.WEEK),
        book.incidents(agency, incidents) if incidents > 0 else _given([]),
    )
    shown = [i for i in recent if i.ended_at is None or i.ended_at >= now - RECENT_S]
    return AgencyBoard(name, snap, day, week, hours, days, shown[:incidents])


async def _given(value: T) -> T:
    return value
