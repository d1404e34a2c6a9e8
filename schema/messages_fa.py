"""Sentences in Persian a citizen can read, built from a template and what an error knows.

A template (one per error code: `schema.error_codes.MESSAGES_FA`) is a sequence of clauses,
joined with "؛ ". A clause is a tuple of alternatives: the first whose `{slots}` are all known is
used, and a clause with none left out. So one template says "the agency's name if it is known,
else a general word", and "the age of the copy shown if there is one, else when to try again".

Numbers are written in Persian digits, durations in words ("۳ ساعت", "۱ ساعت و ۲۰ دقیقه"),
times of day in Tehran's wall clock ("ساعت ۰۲:۰۰", "فردا ساعت ۰۲:۰۰").
"""

from __future__ import annotations

import datetime as dt
import math
import string
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

import jdatetime

from domain.digits import to_persian_digits

__all__ = [
    "TEHRAN",
    "Clause",
    "Template",
    "clock_fa",
    "duration_fa",
    "number_fa",
    "render",
    "slots_of",
]

TEHRAN = ZoneInfo("Asia/Tehran")

Clause = tuple[str, ...]
"""Alternatives of one clause, the first whose slots are all known is used."""
Template = Sequence[Clause]

_SEPARATOR = "؛ "
_UNITS = ((86_400, "روز"), (3_600, "ساعت"), (60, "دقیقه"), (1, "ثانیه"))
_TWO_UNITS_BELOW = 2
"""Below this many of the larger unit, the next one is said too ("۱ ساعت و ۲۰ دقیقه"); from
it on, the larger unit alone, rounded ("۳ ساعت", "۵ دقیقه")."""


def number_fa(value: int) -> str:
    return to_persian_digits(str(value))


def duration_fa(seconds: float, *, round_up: bool = False) -> str:
    """A duration in words: its largest unit, and the next one when the largest is one.

    Ages round down (data "۳ ساعت" old is at least that old); waits round up (`round_up`: a
    client told "۲ دقیقه" is not early). Never less than "۱ ثانیه"."""
    seconds = max(0.0, seconds)
    for index, (size, name) in enumerate(_UNITS):
        if seconds < size and size > 1:
            continue
        small_size, small_name = _UNITS[min(index + 1, len(_UNITS) - 1)]
        big, small = divmod(_rounded(seconds / small_size, round_up), size // small_size)
        if big >= _TWO_UNITS_BELOW and small:
            big, small = big + (1 if round_up else 0), 0
        total = big * size + small * small_size
        if index > 0 and total >= _UNITS[index - 1][0]:
            return duration_fa(total)  # rounding carried it into the larger unit
        words = f"{number_fa(max(big, 1))} {name}"
        return f"{words} و {number_fa(small)} {small_name}" if small else words
    raise AssertionError("unreachable: the last unit is one second")


def clock_fa(at: dt.datetime, now: dt.datetime) -> str:
    """A time of day on Tehran's clock, with "فردا" or the Jalali date when not today."""
    local, today = at.astimezone(TEHRAN), now.astimezone(TEHRAN).date()
    clock = f"ساعت {number_fa(local.hour).rjust(2, '۰')}:{number_fa(local.minute).rjust(2, '۰')}"
    if local.date() == today:
        return clock
    if local.date() == today + dt.timedelta(days=1):
        return f"فردا {clock}"
    day = jdatetime.date.fromgregorian(date=local.date())
    return f"{to_persian_digits(day.strftime('%Y/%m/%d'))} {clock}"


def render(template: Template, slots: Mapping[str, str]) -> str:
    """The template's sentence with `slots` filled in (see the module docstring)."""
    clauses = []
    for clause in template:
        for alternative in clause:
            if all(name in slots for name in _slot_names(alternative)):
                clauses.append(alternative.format_map(slots))
                break
    return _SEPARATOR.join(clauses)


def slots_of(
    *,
    agency_fa: str | None = None,
    retry_after_s: float | None = None,
    stale_age_s: float | None = None,
    expected_back_at: dt.datetime | None = None,
    required_level: int | None = None,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """The slots a template may use, those known: `agency`, `retry`, `age`, `until`, `level`."""
    slots: dict[str, str] = {}
    if agency_fa:
        slots["agency"] = agency_fa
    if retry_after_s is not None and retry_after_s > 0:
        slots["retry"] = duration_fa(retry_after_s, round_up=True)
    if stale_age_s is not None:
        slots["age"] = duration_fa(stale_age_s)
    if expected_back_at is not None:
        slots["until"] = clock_fa(expected_back_at, now or dt.datetime.now(dt.UTC))
    if required_level is not None:
        slots["level"] = number_fa(required_level)
    return slots


def _rounded(value: float, up: bool) -> int:
    # a hair of float error (3 h as 10799.9999 s) must not cost a whole unit
    return math.ceil(value - 1e-9) if up else math.floor(value + 1e-9)


def _slot_names(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]
