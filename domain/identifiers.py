"""Parsers for the identifiers citizens type: national code, bill and payment IDs, Sheba, postal
code and mobile number.

Each parser is the gate in front of an agency call (DESIGN §5): a typo found here costs the user
one clear message instead of costing an agency a round trip, a failure count on its circuit and a
confusing "not found". Parsers accept what people naturally type (Persian or Arabic digits,
surrounding whitespace, and for Sheba, postal code and mobile the spaces and dashes they group
digits with), return one canonical ASCII form, and raise `InvalidInput` naming the GraphQL
argument that was wrong. Messages never echo the value, because it may be a national code.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from domain.digits import to_ascii_digits
from domain.errors import InvalidInput

__all__ = [
    "BillId",
    "PaymentId",
    "ServiceType",
    "build_payment_id",
    "mod11_check_digit",
    "national_code_check_digit",
    "parse_bill_id",
    "parse_mobile",
    "parse_national_code",
    "parse_payment_id",
    "parse_postal_code",
    "parse_sheba",
]

# Hyphen-minus plus the Unicode hyphens and dashes that word processors and phones substitute.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DASH_CLASS = f"[{re.escape(_DASHES)}]"
_GROUP_SEPARATORS = re.compile(rf"(?:\s|{_DASH_CLASS})+")
_POSTAL_CODE = re.compile(rf"([0-9]{{5}})(?:\s*{_DASH_CLASS}\s*|\s+)?([0-9]{{5}})")

_MIN_BILL_DIGITS = 6
_MAX_BILL_DIGITS = 13
_MIN_PAYMENT_DIGITS = 6
_MAX_PAYMENT_DIGITS = 13


def _is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of 0-9 only; `str.isdigit` alone also accepts "²" and "६"."""
    return text.isascii() and text.isdigit()


def _typed_digits(raw: str) -> str:
    """What the user typed, trimmed, with Persian and Arabic-Indic digits made ASCII."""
    return to_ascii_digits(raw).strip()


def _require_digits(text: str, field: str, what: str) -> None:
    """Reject empty input and anything but digits, with one message shape for every identifier."""
    if not text:
        raise InvalidInput(field, f"{what} is required")
    if not _is_ascii_digits(text):
        raise InvalidInput(field, f"{what} must contain only digits")


# --- national code ------------------------------------------------------------------------------


def national_code_check_digit(first9: str) -> int:
    """The check digit of a national code: s = Σ d[i]·(10−i); r = s mod 11; r if r < 2 else 11−r."""
    if len(first9) != 9 or not _is_ascii_digits(first9):
        raise ValueError("national code check digit needs exactly 9 ASCII digits")
    total = sum(int(d) * (10 - i) for i, d in enumerate(first9))
    r = total % 11
    return r if r < 2 else 11 - r


def parse_national_code(raw: str, *, field: str = "nationalCode") -> str:
    """A valid 10-digit national code, or `InvalidInput`.

    Codes that start with zeros are often stored as numbers somewhere and lose them, so 8 or 9
    digits are left-padded. Ten identical digits satisfy the checksum but are never issued; they
    are what people type to get past a form, so they are rejected.
    """
    text = _typed_digits(raw)
    _require_digits(text, field, "national code")
    if not 8 <= len(text) <= 10:
        raise InvalidInput(field, "national code must have 10 digits")
    code = text.zfill(10)
    if len(set(code)) == 1:
        raise InvalidInput(field, "national code cannot be ten identical digits")
    if national_code_check_digit(code[:9]) != int(code[9]):
        raise InvalidInput(field, "national code check digit does not match")
    return code


# --- bill and payment IDs -----------------------------------------------------------------------


class ServiceType(enum.Enum):
    """The service a bill is for, from the second-last digit of its bill ID."""

    WATER = 1
    ELECTRICITY = 2
    GAS = 3
    FIXED_PHONE = 4
    MOBILE = 5
    MUNICIPALITY = 6
    TAX = 7
    TRAFFIC_FINE = 8

    @classmethod
    def from_digit(cls, d: int) -> ServiceType:
        """The service for a bill-ID service digit; 9 is a second traffic-fine digit, 0 is none."""
        if d == 9:
            return cls.TRAFFIC_FINE
        try:
            return cls(d)
        except ValueError:
            raise ValueError(f"{d!r} is not a bill service digit (1-9)") from None


@dataclass(frozen=True)
class BillId:
    """A checked bill ID and the parts agencies route on."""

    value: str
    service: ServiceType
    company_code: str
    file_code: str


@dataclass(frozen=True)
class PaymentId:
    """A checked payment ID: what the bill asks for and for which period."""

    value: str
    amount_rial: int
    year_digit: int
    period: int


def mod11_check_digit(digits: str) -> int:
    """The bill/payment check digit: weights 2..7 repeating from the rightmost digit, mod 11.

    r = Σ d·w mod 11; the digit is 0 if r < 2 else 11 − r. Leading zeros do not change it.
    """
    if digits and not _is_ascii_digits(digits):
        raise ValueError("mod-11 check digit needs ASCII digits")
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(digits)))
    r = total % 11
    return 0 if r < 2 else 11 - r


def _significant_digits(raw: str, field: str, what: str, shortest: int, longest: int) -> str:
    """Digits with leading zeros dropped, since bank forms pad these IDs to a fixed width."""
    text = _typed_digits(raw)
    _require_digits(text, field, what)
    digits = text.lstrip("0")
    if not shortest <= len(digits) <= longest:
        raise InvalidInput(field, f"{what} must have {shortest} to {longest} digits")
    return digits


def parse_bill_id(raw: str, *, field: str = "billId") -> BillId:
    """A checked bill ID split into service, company code and file code, or `InvalidInput`.

    The check digit is tested before the service digit: when it does not match, the service digit
    cannot be trusted either, and "check digit" is the message that points at a typo.
    """
    digits = _significant_digits(raw, field, "bill ID", _MIN_BILL_DIGITS, _MAX_BILL_DIGITS)
    if mod11_check_digit(digits[:-1]) != int(digits[-1]):
        raise InvalidInput(field, "bill ID check digit does not match")
    service_digit = int(digits[-2])
    if service_digit == 0:
        raise InvalidInput(field, "bill ID service digit (second-last) must not be 0")
    return BillId(
        value=digits,
        service=ServiceType.from_digit(service_digit),
        company_code=digits[-5:-2],
        file_code=digits[:-5],
    )


def parse_payment_id(raw: str, bill: BillId, *, field: str = "paymentId") -> PaymentId:
    """A payment ID checked on its own and against its bill, or `InvalidInput`.

    The second check digit covers the bill ID too, so a valid payment ID typed next to the wrong
    bill ID is caught here rather than paying someone else's bill.
    """
    digits = _significant_digits(raw, field, "payment ID", _MIN_PAYMENT_DIGITS, _MAX_PAYMENT_DIGITS)
    if mod11_check_digit(digits[:-2]) != int(digits[-2]):
        raise InvalidInput(field, "payment ID first check digit does not match")
    if mod11_check_digit(bill.value + digits[:-1]) != int(digits[-1]):
        raise InvalidInput(field, "payment ID does not match the bill ID (second check digit)")
    return PaymentId(
        value=digits,
        amount_rial=int(digits[:-5]) * 1000,
        year_digit=int(digits[-5]),
        period=int(digits[-4:-2]),
    )


def build_payment_id(bill: BillId, amount_rial: int, year_digit: int, period: int) -> str:
    """The payment ID `parse_payment_id` would accept for these values (tests and tooling).

    Raises `ValueError`, not `InvalidInput`: a bad argument here is a programming error.
    """
    if amount_rial <= 0 or amount_rial % 1000:
        raise ValueError("amount_rial must be a positive multiple of 1000")
    if not 0 <= year_digit <= 9:
        raise ValueError("year_digit must be 0-9")
    if not 0 <= period <= 99:
        raise ValueError("period must be 0-99")
    body = f"{amount_rial // 1000}{year_digit}{period:02d}"
    if len(body) + 2 > _MAX_PAYMENT_DIGITS:
        raise ValueError("amount_rial is too large for a payment ID")
    body += str(mod11_check_digit(body))
    return body + str(mod11_check_digit(bill.value + body))


# --- Sheba, postal code, mobile -----------------------------------------------------------------


def parse_sheba(raw: str, *, field: str = "sheba") -> str:
    """A checked Iranian IBAN as "IR" + 24 digits, or `InvalidInput`.

    Accepts the grouped form printed on cards ("IR06 0170 ...") and lowercase "ir". ISO 13616:
    move "IR" and the two check digits to the end, letters to numbers (I=18, R=27), and the whole
    number mod 97 must be 1. Check digits outside 02..98 are never issued and are rejected even
    though 00, 01 and 99 can satisfy the congruence.
    """
    text = _GROUP_SEPARATORS.sub("", _typed_digits(raw)).upper()
    if not text:
        raise InvalidInput(field, "sheba is required")
    if not text.startswith("IR"):
        raise InvalidInput(field, "sheba must start with IR")
    digits = text[2:]
    if not _is_ascii_digits(digits):
        raise InvalidInput(field, "sheba must have only digits after IR")
    if len(digits) != 24:
        raise InvalidInput(field, "sheba must have 24 digits after IR")
    check = int(digits[:2])
    if not 2 <= check <= 98 or int(digits[2:] + "1827" + digits[:2]) % 97 != 1:
        raise InvalidInput(field, "sheba check digits do not match")
    return "IR" + digits


def parse_postal_code(raw: str, *, field: str = "postalCode") -> str:
    """A 10-digit postal code, or `InvalidInput`; "12345-67890" is how it is printed."""
    text = _typed_digits(raw)
    match = _POSTAL_CODE.fullmatch(text)
    if match:
        return match.group(1) + match.group(2)
    compact = _GROUP_SEPARATORS.sub("", text)
    _require_digits(compact, field, "postal code")
    if len(compact) != 10:
        raise InvalidInput(field, "postal code must have 10 digits")
    raise InvalidInput(field, "postal code may have a dash only after the fifth digit")


def parse_mobile(raw: str, *, field: str = "mobile") -> str:
    """An Iranian mobile number as "09" + 9 digits, or `InvalidInput`.

    Accepts the international forms (+98, 0098, 98), the bare "9xxxxxxxxx" that contact lists
    store, a trunk 0 after the country code ("+98 0912 ..."), and spaces or dashes anywhere.
    """
    text = _GROUP_SEPARATORS.sub("", _typed_digits(raw))
    if not text:
        raise InvalidInput(field, "mobile is required")
    if text.startswith("+"):
        if not text.startswith("+98"):
            raise InvalidInput(field, "mobile must be an Iranian number (+98)")
        text = text[3:]
    elif text.startswith("0098"):
        text = text[4:]
    elif text.startswith("98") and len(text) == 12:
        text = text[2:]
    if text and not _is_ascii_digits(text):
        raise InvalidInput(field, "mobile must contain only digits")
    if text.startswith("0"):
        text = text[1:]
    if len(text) != 10 or not text.startswith("9"):
        raise InvalidInput(field, "mobile must be 09 followed by 9 digits")
    return "0" + text
