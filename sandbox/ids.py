"""Check digits of national codes, bill IDs and payment IDs, and postal codes (DESIGN §5).

The sandbox plays the agencies, so it issues identifiers the way they do: every bill ID and
payment ID it hands out carries correct check digits, an assigned service digit, and a payment
ID that codes the amount; every postal code keeps the Post Company's content rule.
Written independently of the gateway's validators on purpose (the two are checked against
each other).
"""

from __future__ import annotations

SERVICE_WATER = 1
SERVICE_ELECTRICITY = 2
SERVICE_GAS = 3
SERVICE_FIXED_PHONE = 4
SERVICE_MOBILE = 5
SERVICE_MUNICIPALITY = 6
SERVICE_TAX = 8
SERVICE_TRAFFIC_FINE = 9
SERVICES = frozenset(
    {
        SERVICE_WATER,
        SERVICE_ELECTRICITY,
        SERVICE_GAS,
        SERVICE_FIXED_PHONE,
        SERVICE_MOBILE,
        SERVICE_MUNICIPALITY,
        SERVICE_TAX,
        SERVICE_TRAFFIC_FINE,
    }
)
"""Service digits billers use; 0 and 7 are assigned to no service."""

POSTAL_HEAD_DIGITS = "13456789"  # first five: never 0 or 2
POSTAL_FIFTH_DIGITS = "134679"  # fifth: not 5 either
POSTAL_TAIL_DIGITS = "013456789"  # last five: never 2


def national_code_check_digit(first_nine: str) -> int:
    """Check digit of a national code from its first nine digits."""
    total = sum(int(digit) * (10 - index) for index, digit in enumerate(first_nine))
    remainder = total % 11
    return remainder if remainder < 2 else 11 - remainder


def is_valid_national_code(code: str) -> bool:
    """Strict wire check: ten ASCII digits, correct check digit, not all identical."""
    if len(code) != 10 or not code.isascii() or not code.isdigit():
        return False
    if len(set(code)) == 1:
        return False
    return int(code[9]) == national_code_check_digit(code[:9])


def complete_national_code(first_nine: str) -> str:
    """Append the check digit to nine digits."""
    return f"{first_nine}{national_code_check_digit(first_nine)}"


def mod11_check_digit(digits: str) -> int:
    """Bill/payment check digit: weights 2..7 repeating from the rightmost digit."""
    total = sum(int(digit) * (2 + index % 6) for index, digit in enumerate(reversed(digits)))
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def make_bill_id(file_code: str, company_code: str, service: int) -> str:
    """Bill ID = file code + 3-digit company code + service digit + check digit."""
    if not file_code or file_code[0] == "0":
        raise ValueError("file code must start with a non-zero digit")
    if len(company_code) != 3:
        raise ValueError("company code is 3 digits")
    if service not in SERVICES:
        raise ValueError(f"service digit {service} is assigned to no service")
    body = f"{file_code}{company_code}{service}"
    bill_id = f"{body}{mod11_check_digit(body)}"
    if not 6 <= len(bill_id) <= 13:
        raise ValueError(f"bill ID must be 6-13 digits, got {len(bill_id)}")
    return bill_id


def make_payment_id(bill_id: str, amount: int, year: int, period: int) -> str:
    """Payment ID coding `amount` (a positive multiple of 1000 Rials), year digit and period."""
    if amount <= 0 or amount % 1000:
        raise ValueError("amount must be a positive multiple of 1000 Rials")
    if not 0 <= period <= 99:
        raise ValueError("period is two digits")
    head = f"{amount // 1000}{year % 10}{period:02d}"
    first = mod11_check_digit(head)
    second = mod11_check_digit(f"{bill_id}{head}{first}")
    return f"{head}{first}{second}"


def is_valid_postal_code(code: str) -> bool:
    """The Post Company's rule: digits from the allowed sets per place, and the first four not
    all the same."""
    return (
        len(code) == 10
        and all(digit in POSTAL_HEAD_DIGITS for digit in code[:4])
        and code[4] in POSTAL_FIFTH_DIGITS
        and all(digit in POSTAL_TAIL_DIGITS for digit in code[5:])
        and len(set(code[:4])) > 1
    )
