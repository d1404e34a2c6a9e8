"""Nightly windows as agencies announce them: `00:00-02:00`, in Tehran wall-clock time.

A window is a pair of minutes after Tehran midnight; one whose end is not after its start
crosses midnight (`23:30-01:00` starts on one day and ends on the next). Occurrences are turned
into unix times through `zoneinfo` (Asia/Tehran), so they stay right whatever the machine's time
zone; Iran keeps +03:30 all year since 2023, and older dates follow the tz database's rules.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from domain.digits import to_ascii_digits
from domain.jalali import TEHRAN

__all__ = ["NightlyWindow"]

_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")
_DAY_MIN = 24 * 60


@dataclass(frozen=True, slots=True)
class NightlyWindow:
    """A daily window [start, end) in minutes after Tehran midnight; wraps past midnight when
    `end < start`."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> NightlyWindow:
        """`"00:00-02:00"` or `"23:30-01:00"` (Persian digits too); ValueError saying what is
        wrong otherwise."""
        match = _PATTERN.match(to_ascii_digits(text)) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"a nightly window looks like 00:00-02:00 (Tehran time), got {text!r}")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"nightly window {text!r} has an impossible time of day")
        if (h1, m1) == (h2, m2):
            raise ValueError(f"nightly window {text!r} is empty")
        return cls(h1 * 60 + m1, h2 * 60 + m2)

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    @property
    def minutes(self) -> int:
        """Its length on the wall clock."""
        return (self.end - self.start) % _DAY_MIN

    def occurrence(self, day: dt.date) -> tuple[float, float]:
        """(start, end) in unix seconds of the occurrence that starts on Tehran date `day`."""
        start = dt.datetime.combine(day, _clock(self.start), tzinfo=TEHRAN)
        end_day = day + dt.timedelta(days=1) if self.crosses_midnight else day
        end = dt.datetime.combine(end_day, _clock(self.end), tzinfo=TEHRAN)
        return start.timestamp(), end.timestamp()

    def occurrences(self, since: float, until: float) -> Iterator[tuple[float, float]]:
        """Every occurrence overlapping [since, until), earliest first."""
        day = dt.datetime.fromtimestamp(since, TEHRAN).date() - dt.timedelta(days=1)
        last = dt.datetime.fromtimestamp(until, TEHRAN).date()
        while day <= last:
            start, end = self.occurrence(day)
            if end > since and start < until:
                yield start, end
            day += dt.timedelta(days=1)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Read from its text form, written back as it."""
        return core_schema.no_info_plain_validator_function(
            cls._validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )

    @classmethod
    def _validate(cls, value: Any) -> NightlyWindow:
        return value if isinstance(value, NightlyWindow) else cls.parse(value)


def _clock(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
