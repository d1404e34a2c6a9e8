"""Building blocks for agency wire models.

Agencies name their fields in camelCase, snake_case or PascalCase and write dates as Jalali
strings with whatever digits they like; these bases and annotated types absorb that once, so a
connector's wire model reads as plain Python and a malformed value fails validation (which the
pipeline reports as AGENCY_BAD_RESPONSE). Validation errors never quote the input: payloads hold
personal data and errors end up in logs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel, to_pascal

from domain.digits import normalise_persian_text, to_ascii_digits
from domain.jalali import parse_jalali_date, parse_jalali_datetime

__all__ = [
    "AsciiDigits",
    "CamelWire",
    "JalaliDate",
    "JalaliDateTime",
    "PascalWire",
    "PersianText",
    "SnakeWire",
]


class CamelWire(BaseModel):
    """A JSON object whose keys are camelCase; fields are declared in snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, hide_input_in_errors=True
    )


class SnakeWire(BaseModel):
    """A JSON object whose keys are already snake_case."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)


class PascalWire(BaseModel):
    """An XML/JSON record whose keys are PascalCase."""

    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, frozen=True, hide_input_in_errors=True
    )


def _jalali_date(value: object) -> dt.date:
    if not isinstance(value, str):
        raise ValueError("a Jalali date must be a string")
    return parse_jalali_date(value)


def _jalali_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("a Jalali date-time must be a string")
    return parse_jalali_datetime(value)


JalaliDate = Annotated[dt.date, BeforeValidator(_jalali_date)]
"""A Jalali `1403/07/15` (any digits) on the wire, a `datetime.date` in Python."""

JalaliDateTime = Annotated[dt.datetime, BeforeValidator(_jalali_datetime)]
"""A Jalali `1403/05/02 14:30` on the wire, a naive Tehran-local `datetime` in Python."""

AsciiDigits = Annotated[str, AfterValidator(to_ascii_digits)]
"""A string whose Persian or Arabic-Indic digits become ASCII digits."""

PersianText = Annotated[str, AfterValidator(normalise_persian_text)]
"""Display text with Arabic ي/ك folded into Persian ی/ک and whitespace tidied."""
