"""Gather one list from several agencies concurrently; each agency's failure costs only its part."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import AgencyNotFound, PanjerehError
from domain.sourced import Source
from schema.aggregates import SourceError, SourceState, SourceStatus
from schema.error_codes import INTERNAL, error_extensions
from schema.types import SourceInfo

__all__ = ["Gathered", "SourcePart", "gather_parts"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Item = TypeVar("Item")


@dataclass(frozen=True)
class SourcePart(Generic[T]):
    """One agency's contribution: its id and how to fetch its items with their source."""

    agency: str
    fetch: Callable[[], Awaitable[tuple[list[T], Source]]]


@dataclass(frozen=True)
class Gathered(Generic[T]):
    items: list[tuple[T, Source]]
    statuses: list[SourceStatus]

    @property
    def complete(self) -> bool:
        return all(s.state is SourceState.OK for s in self.statuses)


async def gather_parts(parts: Sequence[SourcePart[T]]) -> Gathered[T]:
    """Run every part at once; a part's agency error becomes its status, not the list's."""
    results = await asyncio.gather(*(p.fetch() for p in parts), return_exceptions=True)
    items: list[tuple[T, Source]] = []
    statuses: list[SourceStatus] = []
    for part, result in zip(parts, results, strict=True):
        if isinstance(result, AgencyNotFound):
            statuses.append(SourceStatus(agency=part.agency, state=SourceState.OK, source=None))
        elif isinstance(result, PanjerehError):  # an agency's failure, a budget or limit hit
            statuses.append(_unavailable(part.agency, result))
        elif isinstance(result, Exception):
            # A fault of ours in one part must not take the whole list (and `me`) down.
            log.error("%s part of an aggregated list failed", part.agency, exc_info=result)
            statuses.append(_internal(part.agency))
        elif isinstance(result, BaseException):
            raise result
        else:
            values, source = result
            items.extend((v, source) for v in values)
            state = SourceState.STALE if source.stale else SourceState.OK
            statuses.append(
                SourceStatus(agency=part.agency, state=state, source=SourceInfo.of(source))
            )
    return Gathered(items, statuses)


def _internal(agency: str) -> SourceStatus:
    error = SourceError(
        code=INTERNAL, message="Internal error; it has been logged.", retryable=False
    )
    return SourceStatus(agency=agency, state=SourceState.UNAVAILABLE, source=None, error=error)


def _unavailable(agency: str, exc: PanjerehError) -> SourceStatus:
    ext = error_extensions(exc)
    error = SourceError(
        code=ext["code"],
        message=exc.message,
        retryable=ext["retryable"],
        retry_after_seconds=ext.get("retryAfterSeconds"),
    )
    return SourceStatus(agency=agency, state=SourceState.UNAVAILABLE, source=None, error=error)
