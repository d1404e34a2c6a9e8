"""Parsers for the identifiers citizens type: national code, bill and payment IDs, Sheba, postal
code and mobile number.

Each parser is the gate in front of an agency call (DESIGN §5): a typo found here costs the user
one clear message instead of costing an agency a round trip, a failure count on its circuit and a
confusing "not found". Parsers accept what people naturally type or paste: Persian, Arabic-Indic
or full-width digits, the invisible direction marks a phone wraps a copied number in, spaces
anywhere, and for Sheba and mobile the dashes they group digits with (for a postal code, the one
dash it is printed with). They return one canonical ASCII form and raise `InvalidInput` naming
the GraphQL argument that was wrong, for anything else given to them, of any type. Messages never
echo the value, because it may be a national code.

What a check digit can and cannot catch, per identifier (property tests in
tests/unit/test_identifier*.py prove each line):

- national code: a one-digit change among the first nine, or a swap of two adjacent different
  digits among them, always moves r = Σ d[i]·(10−i) mod 11 (11 is prime and divides neither the
  change nor the weight, nor the weights' difference 1); but r = 1 and r = 10 share the check
  digit 1, so a change that moves r between those two slips through (about 1 in 55 random
  one-digit changes). A changed check digit is always caught.
- bill ID (mod 11, weights 2..7 from the right): the same, with r = 0 and r = 1 sharing the check
  digit 0; adjacent weights differ by 1, or by 5 across the 7|2 wrap, so swaps move r too.
- payment ID: a typo in its body must slip past both check digits (the second also covers the
  bill ID), each by that {0, 1} collision.
- Sheba (mod 97): every one-digit change and every swap of two different digits, adjacent or not.
- postal code, mobile: no check digit; only a change that breaks the content rule is caught.
- A swap that moves a check digit (with its neighbour) is caught unless the check happens to hold.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from domain.digits import strip_invisible_marks, to_ascii_digits
from domain.errors import InvalidInput

__all__ = [
    "BillId",
    "PaymentId",
    "ServiceType",
    "build_payment_id",
    "format_postal_code",
    "format_sheba",
    "mod11_check_digit",
    "national_code_check_digit",
    "parse_bill_id",
    "parse_mobile",
    "parse_national_code",
    "parse_payment_id",
    "parse_postal_code",
    "parse_sheba",
    "postal_code_problem",
    "sheba_bank_code",
]

# Hyphen-minus plus the Unicode hyphens and dashes that word processors and phones substitute,
# and their full-width and small forms.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"
_DASH_CLASS = f"[{re.escape(_DASHES)}]"
_DASH_RUN = re.compile(f"{_DASH_CLASS}+")
_WHITESPACE = re.compile(r"\s+")
_PLUS_SIGNS = "+\uff0b"
_POSTAL_CODE = re.compile(rf"([0-9]{{5}}){_DASH_CLASS}?([0-9]{{5}})")
_NATIONAL_MOBILE = re.compile(r"0?9[0-9]{9}")

_MIN_BILL_DIGITS = 6
_MAX_BILL_DIGITS = 13
_MIN_PAYMENT_DIGITS = 6
_MAX_PAYMENT_DIGITS = 13


def _is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of 0-9 only; `str.isdigit` alone also accepts "²" and "६"."""
    return text.isascii() and text.isdigit()


def _typed(raw: object, field: str, what: str) -> str:
    """What the user typed or pasted, as one run of visible characters with ASCII digits.

    Anything but a string is refused here, typed, so no caller can crash a parser with a number
    or a None. Empty means "nothing was given"; a dash alone is something, and is refused by the
    parser as invalid rather than as missing.
    """
    if not isinstance(raw, str):
        raise InvalidInput(field, f"{what} must be text")
    text = _WHITESPACE.sub("", strip_invisible_marks(to_ascii_digits(raw)))
    if not text:
        raise InvalidInput(field, f"{what} is required")
    return text


def _require_digits(text: str, field: str, what: str) -> None:
    """Reject anything but digits, with one message shape for every identifier."""
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


def parse_national_code(raw: object, *, field: str = "nationalCode") -> str:
    """A valid 10-digit national code, or `InvalidInput`.

    Codes that start with zeros are often stored as numbers somewhere and lose them, so 8 or 9
    digits are left-padded. Ten identical digits satisfy the checksum but are never issued; they
    are what people type to get past a form, so they are rejected.
    """
    text = _typed(raw, field, "national code")
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
    """The service a bill is for: the second-last digit of its bill ID (DESIGN §5).

    0 and 7 are assigned to no service; a bill ID carrying either is refused even when its check
    digit holds, because no biller issues one.
    """

    WATER = 1
    ELECTRICITY = 2
    GAS = 3
    FIXED_PHONE = 4
    MOBILE = 5
    MUNICIPALITY = 6
    TAX = 8
    TRAFFIC_FINE = 9

    @classmethod
    def from_digit(cls, d: int) -> ServiceType:
        """The service for a bill-ID service digit; `ValueError` for 0, 7 or a non-digit."""
        try:
            return cls(d)
        except ValueError:
            raise ValueError(f"{d!r} is not an assigned bill service digit (1-6, 8, 9)") from None


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


def _significant_digits(raw: object, field: str, what: str, shortest: int, longest: int) -> str:
    """Digits with leading zeros dropped, since bank forms pad these IDs to a fixed width."""
    text = _typed(raw, field, what)
    _require_digits(text, field, what)
    digits = text.lstrip("0")
    if not shortest <= len(digits) <= longest:
        raise InvalidInput(field, f"{what} must have {shortest} to {longest} digits")
    return digits


def parse_bill_id(raw: object, *, field: str = "billId") -> BillId:
    """A checked bill ID split into service, company code and file code, or `InvalidInput`.

    The check digit is tested before the service digit: when it does not match, the service digit
    cannot be trusted either, and "check digit" is the message that points at a typo.
    """
    digits = _significant_digits(raw, field, "bill ID", _MIN_BILL_DIGITS, _MAX_BILL_DIGITS)
    if mod11_check_digit(digits[:-1]) != int(digits[-1]):
        raise InvalidInput(field, "bill ID check digit does not match")
    service_digit = int(digits[-2])
    try:
        service = ServiceType.from_digit(service_digit)
    except ValueError:
        message = f"bill ID service digit (second-last) {service_digit} is assigned to no service"
        raise InvalidInput(field, message) from None
    return BillId(
        value=digits,
        service=service,
        company_code=digits[-5:-2],
        file_code=digits[:-5],
    )


def parse_payment_id(raw: object, bill: BillId, *, field: str = "paymentId") -> PaymentId:
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


# --- Sheba -------------------------------------------------------------------------------------


def parse_sheba(raw: object, *, field: str = "sheba") -> str:
    """A checked Iranian IBAN as "IR" + 24 digits, or `InvalidInput`.

    Accepts the grouped form printed on cards ("IR06 0170 ...") and lowercase "ir". ISO 13616:
    move "IR" and the two check digits to the end, letters to numbers (I=18, R=27), and the whole
    number mod 97 must be 1. Check digits outside 02..98 are never issued and are rejected even
    though 00, 01 and 99 can satisfy the congruence.
    """
    text = _DASH_RUN.sub("", _typed(raw, field, "sheba")).upper()
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


def sheba_bank_code(sheba: str) -> str:
    """The bank code of a checked Sheba: the three digits after "IR" and the check digits."""
    return sheba[4:7]


def format_sheba(sheba: str) -> str:
    """A checked Sheba grouped by four as banks print it: "IR06 2960 0000 0010 0324 2000 01"."""
    return " ".join(sheba[i : i + 4] for i in range(0, len(sheba), 4))


# --- postal code --------------------------------------------------------------------------------


def postal_code_problem(code: str) -> str | None:
    """Why ten ASCII digits are not a postal code the Post Company issues, or None if they are.

    The Post Company's rule (DESIGN §5), `(?!(\\d)\\1{3})[13-9]{4}[1346-9][013-9]{5}`: no 0 or 2 in
    the first five digits, no 5 in the fifth, no 2 in the last five, and not four equal digits
    at the start. Shared by the parser of what citizens type and the connector of what the Post
    Company answers, so the gateway never shows a postal code it would refuse.
    """
    if len(code) != 10 or not _is_ascii_digits(code):
        return "postal code must have 10 digits"
    first, last = code[:5], code[5:]
    if "0" in first or "2" in first:
        return "postal code cannot have 0 or 2 in its first five digits"
    if first[4] == "5":
        return "postal code cannot have 5 as its fifth digit"
    if "2" in last:
        return "postal code cannot have 2 in its last five digits"
    if len(set(code[:4])) == 1:
        return "postal code cannot start with four identical digits"
    return None


def parse_postal_code(raw: object, *, field: str = "postalCode") -> str:
    """A postal code the Post Company could have issued, as 10 digits, or `InvalidInput`.

    "12345-67890" is how it is printed; spaces anywhere are copying noise. A dash anywhere else
    is refused: it means the digits were grouped as something other than a postal code.
    """
    text = _typed(raw, field, "postal code")
    match = _POSTAL_CODE.fullmatch(text)
    if match is None:
        compact = _DASH_RUN.sub("", text)
        _require_digits(compact, field, "postal code")
        if len(compact) != 10:
            raise InvalidInput(field, "postal code must have 10 digits")
        raise InvalidInput(field, "postal code may have a dash only after the fifth digit")
    code = match.group(1) + match.group(2)
    problem = postal_code_problem(code)
    if problem is not None:
        raise InvalidInput(field, problem)
    return code


def format_postal_code(code: str) -> str:
    """A checked postal code as printed on envelopes: "13579-13579"."""
    return f"{code[:5]}-{code[5:]}"


# --- mobile -------------------------------------------------------------------------------------


def parse_mobile(raw: object, *, field: str = "mobile") -> str:
    """An Iranian mobile number as "09" + 9 digits, or `InvalidInput`.

    Accepts the national form (09…), the bare 9… that contact lists store, and the international
    forms +98…, 0098… and 98…, with spaces, dashes and direction marks anywhere (a number copied
    from a phone arrives as "\u202a+98 912 123 4567\u202c").

    The trunk 0: E.164 writes +98 912…, but people prefix the number they know and write
    +98 0912…, 0098 0912… or 98 0912…. Every prefix is treated alike (DESIGN §5): one trunk 0
    after it is dropped, so "+98 0912…", "0098 0912…" and "98 0912…" all mean 0912…, as Iranian
    operators' and banks' forms read them. "98" without "+" or "00" is a country code only when a
    whole mobile number follows it (9 and nine digits, with or without the trunk 0): ten digits
    "98…" are the national number 098… typed without its 0.
    """
    text = _DASH_RUN.sub("", _typed(raw, field, "mobile"))
    if text[:1] in _PLUS_SIGNS and text:
        if not text[1:].startswith("98"):
            raise InvalidInput(field, "mobile must be an Iranian number (+98)")
        text = text[3:]
    elif text.startswith("0098"):
        text = text[4:]
    elif text.startswith("98") and _NATIONAL_MOBILE.fullmatch(text[2:]):
        text = text[2:]
    if text and not _is_ascii_digits(text):
        raise InvalidInput(field, "mobile must contain only digits")
    if text.startswith("0"):
        text = text[1:]
    if len(text) != 10 or not text.startswith("9"):
        raise InvalidInput(field, "mobile must be 09 followed by 9 digits")
    return "0" + text
