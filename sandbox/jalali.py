"""Jalali dates as the agencies format them, relative to a fixed sandbox "today".

Synthetic data must be identical across runs and days, so it is dated from a constant
reference day rather than the clock. Date arithmetic is cached: jdatetime is slow enough that
it dominated generating a citizen.
"""

from __future__ import annotations

import datetime as _dt
from functools import cache, lru_cache

import jdatetime

TODAY = jdatetime.date(1405, 8, 1)


@cache
def days_from_today(days: int) -> jdatetime.date:
    """The Jalali date `days` after (or before, if negative) the sandbox's today."""
    return TODAY + _dt.timedelta(days=days)


@lru_cache(maxsize=65_536)
def shifted(day: jdatetime.date, days: int) -> jdatetime.date:
    """`day` moved by `days` days."""
    return day + _dt.timedelta(days=days)


def slashed(day: jdatetime.date) -> str:
    """`1403/07/15`."""
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def compact(day: jdatetime.date) -> str:
    """`14030715` (civil registry)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def slashed_time(moment: jdatetime.datetime) -> str:
    """`1403/05/02 14:30`."""
    return f"{slashed(moment.date())} {moment.hour:02d}:{moment.minute:02d}"


@cache
def safe_date(year: int, month: int, day: int) -> jdatetime.date:
    """A Jalali date, with day clamped to the month's length (Esfand has 29 days most years)."""
    limit = 31 if month <= 6 else 30
    if month == 12:
        limit = 30 if jdatetime.date(year, 1, 1).isleap() else 29
    return jdatetime.date(year, month, min(day, limit))
