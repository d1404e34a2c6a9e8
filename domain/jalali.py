"""Jalali (Solar Hijri) dates as agencies send them, and back for display.

Agencies speak Jalali, in whichever of "1403/07/15", "1403-07-15" or "14030715" their system
happens to emit, sometimes in Persian digits; the schema speaks ISO. These functions are the one
place that conversion happens. They raise `ValueError` (not `InvalidInput`) because their input is
an agency payload: the caller turns it into `AgencyBadResponse` for that agency.
"""

from __future__ import annotations

import datetime
import math
import re
from zoneinfo import ZoneInfo

import jdatetime

from domain.digits import to_ascii_digits

__all__ = [
    "TEHRAN",
    "format_jalali",
    "format_tehran_moment",
    "parse_jalali_date",
    "parse_jalali_datetime",
]

TEHRAN = ZoneInfo("Asia/Tehran")
"""Iran's time zone (+03:30 all year since 2023; the `tzdata` package provides it where the
system has no zoneinfo)."""

# Separated forms allow one- or two-digit month and day ("1403/7/5"), which several agencies emit;
# the compact form needs exactly eight digits to be unambiguous.
_DATE = (
    r"(?:(?P<y>[0-9]{4})(?P<sep>[/-])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    r"|(?P<cy>[0-9]{4})(?P<cm>[0-9]{2})(?P<cd>[0-9]{2}))"
)
_TIME = r"(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?"
_DATE_ONLY = re.compile(_DATE)
_DATE_TIME = re.compile(rf"{_DATE}(?:(?:\s+|T){_TIME})?")

_DATE_EXAMPLE = "1403/07/15, 1403-07-15 or 14030715"
_SHOWN_CHARS = 40


def _shown(text: str) -> str:
    """The offending value for an error message, cut short: agency payloads can be huge."""
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return repr(text[:_SHOWN_CHARS]) + "..."


def _gregorian(match: re.Match[str], text: str) -> datetime.date:
    """The Gregorian date for a matched Jalali date, or `ValueError` if no such day exists."""
    if match.group("y") is not None:
        parts = match.group("y", "m", "d")
    else:
        parts = match.group("cy", "cm", "cd")
    year, month, day = (int(p) for p in parts)
    try:
        return jdatetime.date(year, month, day).togregorian()
    except ValueError as exc:
        raise ValueError(f"{_shown(text)} is not a real Jalali date: {exc}") from None


def parse_jalali_date(text: str) -> datetime.date:
    """The Gregorian date for a Jalali date; `ValueError` for any other shape or no such day."""
    cleaned = to_ascii_digits(text).strip()
    match = _DATE_ONLY.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"expected a Jalali date like {_DATE_EXAMPLE}, got {_shown(text)}")
    return _gregorian(match, text)


def parse_jalali_datetime(text: str) -> datetime.datetime:
    """A naive Tehran-local datetime for "1403/05/02 14:30" (seconds optional; no time = midnight).

    Naive on purpose: agencies send wall-clock Tehran time without an offset, and guessing one here
    would hide that from the caller, who knows which agency it came from.
    """
    cleaned = to_ascii_digits(text).strip()
    match = _DATE_TIME.fullmatch(cleaned)
    if match is None:
        raise ValueError(
            f"expected a Jalali date-time like 1403/05/02 14:30 (date as {_DATE_EXAMPLE}), "
            f"got {_shown(text)}"
        )
    date = _gregorian(match, text)
    if match.group("H") is None:
        return datetime.datetime.combine(date, datetime.time())
    hour, minute = int(match.group("H")), int(match.group("M"))
    second = int(match.group("S") or 0)
    try:
        clock = datetime.time(hour, minute, second)
    except ValueError as exc:
        raise ValueError(f"{_shown(text)} has an impossible time of day: {exc}") from None
    return datetime.datetime.combine(date, clock)


def format_jalali(d: datetime.date) -> str:
    """Format as "1403/07/15" with ASCII digits: the form agencies and Persian readers expect.

    A `datetime` is formatted by its date. `ValueError` for days before the Jalali epoch (622 CE).
    """
    j = jdatetime.date.fromgregorian(year=d.year, month=d.month, day=d.day)
    return f"{j.year:04d}/{j.month:02d}/{j.day:02d}"


def format_tehran_moment(timestamp: float) -> str:
    """A unix time as a citizen reads it: `02:00 Tehran time on 1403/07/16
    (2024-10-07T02:00:00+03:30)`."""
    moment = datetime.datetime.fromtimestamp(math.ceil(timestamp), TEHRAN)
    return f"{moment:%H:%M} Tehran time on {format_jalali(moment)} ({moment.isoformat()})"
