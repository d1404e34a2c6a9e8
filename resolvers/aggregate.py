"""Gather one list from several agencies concurrently; each agency's failure costs only its part."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from domain.errors import AgencyNotFound, PanjerehError
from domain.sourced import Fetched, PartStatus, Sourced, SourceState

__all__ = ["Gathered", "SourcePart", "gather_parts"]

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
        """True when every part answered, fresh."""
        return all(s.state is SourceState.OK for s in self.sources)


async def gather_parts(parts: Sequence[SourcePart[T]]) -> Gathered[T]:
    """Every part's items, the parts having been started together; a part's agency error
    becomes its status, not the list's.

    The parts are awaited one after another, not gathered: they already run, so waiting for
    each in turn takes as long as the slowest, and costs no task of its own."""
    items: list[Sourced[T]] = []
    statuses: list[PartStatus] = []
    for part in parts:
        try:
            fetched = await asyncio.shield(part.loaded)  # shared with other fields: shielded
            values = part.items(fetched.value)
        except AgencyNotFound:
            statuses.append(PartStatus(part.agency, SourceState.OK))
        except PanjerehError as exc:  # an agency's failure, a budget or limit hit
            statuses.append(PartStatus(part.agency, SourceState.UNAVAILABLE, error=exc))
        except Exception as exc:
            # A fault of ours in one part must not take the whole list (and `me`) down.
            log.error("%s part of an aggregated list failed", part.agency, exc_info=exc)
            statuses.append(PartStatus(part.agency, SourceState.UNAVAILABLE, error=exc))
        else:
            source = fetched.source
            items.extend(Sourced(v, source) for v in values)
            state = SourceState.STALE if source.stale else SourceState.OK
            statuses.append(PartStatus(part.agency, state, source))
    return Gathered(items, statuses)
