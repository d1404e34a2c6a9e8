"""`Day`: a calendar day that also knows its Jalali form.

Agency records hold their dates as `Day`s, so that a response can read both forms straight off the
record (`day.iso`, `day.jalali`) instead of converting every date of every record on every request.
A `Day` is a `datetime.date` (equal to, and serialised like, the plain date); pydantic turns any
date a connector passes into one, so connectors keep building records from plain dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from domain.jalali import format_jalali

__all__ = ["Day"]


class Day(dt.date):
    """A `datetime.date` with its Jalali form, computed once per instance."""

    __slots__ = ("_jalali",)

    @classmethod
    def of(cls, day: dt.date) -> Day:
        """`day` as a `Day` (itself when it already is one)."""
        if isinstance(day, Day):
            return day
        return cls(day.year, day.month, day.day)

    @property
    def iso(self) -> dt.date:
        """The day itself, for the ISO (Gregorian) form."""
        return self

    @property
    def jalali(self) -> str:
        """The Jalali form, YYYY/MM/DD with ASCII digits."""
        try:
            return self._jalali
        except AttributeError:
            self._jalali: str = format_jalali(self)
            return self._jalali

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validated as a date, then made a `Day`; serialised as the date it is."""
        return core_schema.no_info_after_validator_function(cls.of, core_schema.date_schema())
