"""Provenance: every agency-backed value says where it came from and how old it is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Fetched", "Source"]

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


@dataclass(frozen=True, slots=True)
class Fetched(Generic[T]):
    """A value from an agency together with its `Source`."""

    value: T
    source: Source
