"""Gather one list from several agencies concurrently; each agency's failure costs only its part."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import AgencyNotFound, PanjerehError
from domain.sourced import PartStatus, Source, Sourced, SourceState

__all__ = ["Gathered", "SourcePart", "gather_parts"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class SourcePart(Generic[T]):
    """One agency's contribution: its id and how to fetch its items with their source."""

    agency: str
    fetch: Callable[[], Awaitable[tuple[list[T], Source]]]


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
    """Run every part at once; a part's agency error becomes its status, not the list's."""
    results = await asyncio.gather(*(p.fetch() for p in parts), return_exceptions=True)
    items: list[Sourced[T]] = []
    statuses: list[PartStatus] = []
    for part, result in zip(parts, results, strict=True):
        if isinstance(result, AgencyNotFound):
            statuses.append(PartStatus(part.agency, SourceState.OK))
        elif isinstance(result, PanjerehError):  # an agency's failure, a budget or limit hit
            statuses.append(PartStatus(part.agency, SourceState.UNAVAILABLE, error=result))
        elif isinstance(result, Exception):
            # A fault of ours in one part must not take the whole list (and `me`) down.
            log.error("%s part of an aggregated list failed", part.agency, exc_info=result)
            statuses.append(PartStatus(part.agency, SourceState.UNAVAILABLE, error=result))
        elif isinstance(result, BaseException):
            raise result
        else:
            values, source = result
            items.extend(Sourced(v, source) for v in values)
            state = SourceState.STALE if source.stale else SourceState.OK
            statuses.append(PartStatus(part.agency, state, source))
    return Gathered(items, statuses)
