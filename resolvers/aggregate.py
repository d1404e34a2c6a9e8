"""Gather one list from several agencies concurrently; each agency's failure costs only its part.

What an agency lookup came to is settled into a `PartStatus` here, once, for the lists gathered
from several agencies and for `Citizen.sources`:

    answer, fresh        OK           with its source
    "no record", or      EMPTY        with the source of that answer; no error
    nothing in it
    stale copy           STALE        with its source and why it is stale
    agency failure       UNAVAILABLE  with the typed error (and a fault of ours: logged)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence, Sized
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from domain.errors import AgencyNotFound, PanjerehError
from domain.sourced import Fetched, PartStatus, Source, Sourced, SourceState

__all__ = ["Gathered", "SourcePart", "combine", "gather_parts", "settle"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class SourcePart(Generic[T]):
    """One agency's contribution: its id, its answer (an awaitable already started, so that
    every part runs at once) and how to read the list's items from that answer."""

    agency: str
    loaded: Awaitable[Fetched[Any]]
    items: Callable[[Any], Sequence[T]]


@dataclass(frozen=True)
class Gathered(Generic[T]):
    """The items that could be had, each with its source, and every part's status."""

    items: list[Sourced[T]]
    sources: list[PartStatus]

    @property
    def complete(self) -> bool:
        """True when every part answered, fresh (with items or with none)."""
        return all(s.state.answered for s in self.sources)


async def settle(
    agency: str, loaded: Awaitable[Fetched[T]], read: Callable[[T], Any] = lambda v: v
) -> tuple[PartStatus, Any]:
    """What one lookup came to (the table above), and `read` of its value when it answered
    with one (None otherwise); an answer `read` finds nothing in (an empty list) is EMPTY.
    Awaited through a shield: the lookup is shared with other fields, and a fault of ours in
    `read` costs only this part."""
    try:
        fetched = await asyncio.shield(loaded)
        value = read(fetched.value)
    except AgencyNotFound as exc:
        return PartStatus(agency, SourceState.EMPTY, exc.source), None
    except PanjerehError as exc:  # an agency's failure, a budget or limit hit
        return PartStatus(agency, SourceState.UNAVAILABLE, error=exc), None
    except Exception as exc:
        # A fault of ours in one part must not take the whole answer (and `me`) down.
        log.error("%s part of an aggregated list failed", agency, exc_info=exc)
        return PartStatus(agency, SourceState.UNAVAILABLE, error=exc), None
    source = fetched.source
    if source.stale:
        return PartStatus(agency, SourceState.STALE, source, error=source.failure), value
    if isinstance(value, Sized) and len(value) == 0:
        return PartStatus(agency, SourceState.EMPTY, source), value
    return PartStatus(agency, SourceState.OK, source), value


async def gather_parts(parts: Sequence[SourcePart[T]]) -> Gathered[T]:
    """Every part's items, the parts having been started together; a part's agency error
    becomes its status, not the list's.

    The parts are awaited one after another, not gathered: they already run, so waiting for
    each in turn takes as long as the slowest, and costs no task of its own."""
    items: list[Sourced[T]] = []
    statuses: list[PartStatus] = []
    for part in parts:
        status, values = await settle(part.agency, part.loaded, part.items)
        statuses.append(status)
        if values is not None and status.source is not None:
            items.extend(Sourced(v, status.source) for v in values)
    return Gathered(items, statuses)


_WORST_FIRST = (SourceState.UNAVAILABLE, SourceState.STALE, SourceState.OK, SourceState.EMPTY)


def combine(agency: str, parts: Iterable[PartStatus]) -> PartStatus:
    """One agency's status from the statuses of its lookups: the worst state among them
    (UNAVAILABLE, then STALE, then OK; EMPTY only when every lookup found nothing), with that
    state's first error and the oldest source of the lookups in that state."""
    parts = list(parts)
    for state in _WORST_FIRST:
        same = [p for p in parts if p.state is state]
        if same:
            error = next((p.error for p in same if p.error is not None), None)
            return PartStatus(agency, state, _oldest(p.source for p in same), error)
    raise ValueError(f"no lookup of {agency} to combine")


def _oldest(sources: Iterable[Source | None]) -> Source | None:
    known = [s for s in sources if s is not None]
    return min(known, key=lambda s: s.fetched_at) if known else None
