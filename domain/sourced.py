"""Provenance: every agency-backed value says where it came from and how old it is.

`Fetched` is what the pipeline answers (a value and its `Source`); `Sourced` is how a response
reads it: the record's own fields as plain attributes beside `source`, made once per agency part
so that every field below it is a plain attribute read. `PartStatus` is one agency's share of an
answer (of a list gathered from several agencies, or of a citizen's whole answer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from domain import agencies

if TYPE_CHECKING:
    from domain.errors import AgencyError

__all__ = ["Fetched", "PartStatus", "Source", "SourceState", "Sourced"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Source:
    """Which agency answered, when, and whether this is a stale copy served during its failure.

    `fresh_until` is when the answer stops being fresh (its cache window), when known: nothing
    built from it (a kept response) may be served past it. `failure` is, for a stale copy, why
    the fresh answer could not be had (a client is told so, with the copy's age)."""

    agency: str
    fetched_at: dt.datetime
    stale: bool = False
    fresh_until: dt.datetime | None = None
    failure: AgencyError | None = field(default=None, compare=False)

    @property
    def name_fa(self) -> str:
        """The agency's name as citizens know it; its id when no connector names it."""
        return agencies.name_fa(self.agency)

    @property
    def name_en(self) -> str:
        return agencies.name_en(self.agency)

    def age_seconds(self, now: dt.datetime | None = None) -> float:
        now = now or dt.datetime.now(dt.UTC)
        return max(0.0, (now - self.fetched_at).total_seconds())

    @property
    def age(self) -> int:
        """Whole seconds since it was fetched, as of now."""
        return int(self.age_seconds())


@dataclass(frozen=True, slots=True)
class Fetched(Generic[T]):
    """A value from an agency together with its `Source`."""

    value: T
    source: Source


class Sourced(Generic[T]):
    """A record's fields (or a list, as `items`) and the `source` it came from, as attributes.

    A record's fields are copied once, so reading one is a plain attribute lookup; anything else
    the record offers (a property such as `MobileCheck.matches`) is read from the record itself.
    """

    def __init__(self, value: T, source: Source) -> None:
        if isinstance(value, BaseModel):
            self.__dict__.update(value.__dict__)
        else:
            self.items = value
        self._value = value
        self.source = source

    @classmethod
    def of(cls, fetched: Fetched[T]) -> Sourced[T]:
        return cls(fetched.value, fetched.source)

    def __getattr__(self, name: str) -> Any:
        if name == "_value":  # not set yet (copying, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self._value, name)


class SourceState(StrEnum):
    """What one agency's part of an answer came to; absence (EMPTY: "no record", or nothing in
    the answer) is a state, not an error."""

    OK = "OK"
    EMPTY = "EMPTY"
    STALE = "STALE"
    UNAVAILABLE = "UNAVAILABLE"

    @property
    def answered(self) -> bool:
        """The agency answered, fresh: with data (OK) or with "no record" (EMPTY)."""
        return self in (SourceState.OK, SourceState.EMPTY)


@dataclass(frozen=True, slots=True)
class PartStatus:
    """One agency's part of an answer: its state, its source when it answered (with data or
    with "no record"), and the error when it did not (a `PanjerehError`, or any other
    exception: a fault of ours), or, for a stale copy, why the fresh answer could not be had."""

    agency: str
    state: SourceState
    source: Source | None = field(
        default=None,
        metadata={"description": "Null when the agency's part is missing (UNAVAILABLE)."},
    )
    error: Exception | None = None

    @property
    def name_fa(self) -> str:
        return agencies.name_fa(self.agency)

    @property
    def name_en(self) -> str:
        return agencies.name_en(self.agency)

    @property
    def fetched_at(self) -> dt.datetime | None:
        """When the agency gave this answer (or the stale copy shown); None when it failed."""
        return self.source.fetched_at if self.source is not None else None

    @property
    def age(self) -> int | None:
        return self.source.age if self.source is not None else None
