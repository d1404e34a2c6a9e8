"""Provenance: every agency-backed value says where it came from and how old it is.

`Fetched` is what the pipeline answers (a value and its `Source`); `Sourced` is how a response
reads it: the record's own fields as plain attributes beside `source`, made once per agency part
so that every field below it is a plain attribute read. `PartStatus` is one agency's share of a
list gathered from several.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

__all__ = ["Fetched", "PartStatus", "Source", "SourceState", "Sourced"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Source:
    """Which agency answered, when, and whether this is a stale copy served during its failure.

    `fresh_until` is when the answer stops being fresh (its cache window), when known: nothing
    built from it (a kept response) may be served past it."""

    agency: str
    fetched_at: dt.datetime
    stale: bool = False
    fresh_until: dt.datetime | None = None

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
    """How one agency's part of a gathered list was obtained."""

    OK = "OK"
    STALE = "STALE"
    UNAVAILABLE = "UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class PartStatus:
    """One agency's part of a gathered list: its state, its source when it answered, and the
    error when it did not (a `PanjerehError`, or any other exception: a fault of ours)."""

    agency: str
    state: SourceState
    source: Source | None = field(
        default=None,
        metadata={"description": "Null when the agency's part is missing or it holds no record."},
    )
    error: Exception | None = None
