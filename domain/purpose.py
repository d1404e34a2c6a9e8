"""The purpose a service states when it reads a citizen: short, printable, and no identifier.

The purpose is written into the audit log verbatim and shown to the citizen in `accessLog`, so it
must be text a person can read, not a vehicle for data: invisible characters (zero-width spaces,
NUL, bidi overrides) could hide what is written or fake what is shown, a megabyte could flood the
log, and a national code, mobile, card or Sheba number typed into it would put personal data in
the log in clear. The rule, in order (the cheapest first, so a huge value costs nothing):

1. at most `MAX_RAW` characters before any work; NFC;
2. no control (tabs and newlines too), format, surrogate, private-use or unassigned code point
   (Unicode category C), nor a line or paragraph separator, except the zero-width non-joiner
   between two letters ("می‌خواهم" is correct Persian);
3. space runs collapse to one space, then trimmed: 3–200 characters, not only spaces;
4. no identifier, digits of any script counted: a national code (8–10 digits that pass its
   check), a mobile number, or any run of 10 or more digits (postal code, card, Sheba, account
   numbers). Runs are joined across anything that is not a letter (spaces, dashes, commas,
   dots, slashes, the Persian comma "،" and decimal mark "٫"...): that is how people group a
   number they type, and "001,234,5679" is the same code as "0012345679". Each group of digits
   written together is tested on its own as well ("5, 12345679" hides an 8-digit code).
   Only a letter separates two numbers; a well-formed date (year 13xx/14xx/19xx/20xx, month,
   day, with "/", "." or "-", either order) counts as a word, so "1403/07/15" and "1399/01/01"
   pass though their digits could pass a national code's check; case numbers such as
   "98/1234" are too short to matter.

Messages never echo the value.
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import InvalidInput
from domain.identifiers import national_code_check_digit

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "validate_purpose"]

MIN_LENGTH = 3
MAX_LENGTH = 200
MAX_RAW = 4 * MAX_LENGTH
"""Longer input is refused before normalisation: NFC can shrink text, never by this much."""

LONG_DIGIT_RUN = 10
_ZWNJ = "\u200c"
_WHITESPACE = re.compile(r"\s+")
_YEAR = r"(?:1[34]|19|20)\d\d"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_DATE = re.compile(
    rf"(?<!\d)(?:{_YEAR}([/.\-]){_MONTH}\1{_DAY}|{_DAY}([/.\-]){_MONTH}\2{_YEAR})(?!\d)"
)
_DATE_WORD = "D"  # what a date is replaced by: a letter, which ends a run of digits
_DIGIT_RUN = re.compile(r"\d(?:[\W_]*\d)*")  # separators and digits are disjoint: linear
_DIGITS = re.compile(r"\d+")
_NOT_DIGIT = re.compile(r"\D")
_MOBILE = re.compile(r"(?:0098|98|0)?9\d{9}")
_FIELD = "purpose"


def validate_purpose(raw: object) -> str:
    """The purpose as it will be recorded (NFC, single spaces, trimmed), or `InvalidInput`."""
    if not isinstance(raw, str):
        raise InvalidInput(_FIELD, "the purpose must be text")
    if len(raw) > MAX_RAW:
        raise InvalidInput(_FIELD, f"the purpose must be at most {MAX_LENGTH} characters")
    text = unicodedata.normalize("NFC", raw)
    _require_printable(text)
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > MAX_LENGTH:
        raise InvalidInput(_FIELD, f"the purpose must be at most {MAX_LENGTH} characters")
    if len(text) < MIN_LENGTH or all(ch.isspace() or ch == _ZWNJ for ch in text):
        raise InvalidInput(
            _FIELD, f"state the purpose of this access (at least {MIN_LENGTH} characters)"
        )
    _refuse_identifiers(text)
    return text


def _require_printable(text: str) -> None:
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if (
            ch == _ZWNJ
            and 0 < i < len(text) - 1
            and text[i - 1].isalpha()
            and text[i + 1].isalpha()
        ):
            continue
        if category[0] == "C" or category in ("Zl", "Zp"):
            raise InvalidInput(
                _FIELD,
                "the purpose must be printable text: no control, zero-width or direction marks",
            )


def _refuse_identifiers(text: str) -> None:
    # Every decimal digit (Persian, Arabic-Indic, full-width, ...) as ASCII, for matching only.
    ascii_text = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)
    ascii_text = _DATE.sub(_DATE_WORD, ascii_text)
    for match in _DIGIT_RUN.finditer(ascii_text):
        run = match.group()
        for digits in (_NOT_DIGIT.sub("", run), *_DIGITS.findall(run)):
            _refuse_number(digits)


def _refuse_number(digits: str) -> None:
    if _is_national_code(digits):
        raise InvalidInput(_FIELD, "the purpose must not contain a national code")
    if _MOBILE.fullmatch(digits):
        raise InvalidInput(_FIELD, "the purpose must not contain a mobile number")
    if len(digits) >= LONG_DIGIT_RUN:
        raise InvalidInput(
            _FIELD, "the purpose must not contain long numbers (card, Sheba, account, postal code)"
        )


def _is_national_code(digits: str) -> bool:
    if not 8 <= len(digits) <= 10:
        return False
    code = digits.zfill(10)
    return len(set(code)) > 1 and national_code_check_digit(code[:9]) == int(code[9])
