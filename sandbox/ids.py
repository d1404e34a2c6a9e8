"""Check digits of national codes, bill IDs and payment IDs (DESIGN §5).

The sandbox plays the agencies, so it issues identifiers the way they do: every bill ID and
payment ID it hands out carries correct check digits and the payment ID codes the amount.
Written independently of the gateway's validators on purpose (the two are checked against
each other).
"""

from __future__ import annotations

SERVICE_WATER = 1
SERVICE_ELECTRICITY = 2
SERVICE_GAS = 3
SERVICE_FIXED_PHONE = 4
SERVICE_TAX = 7
SERVICE_TRAFFIC_FINE = 8


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
    if len(company_code) != 3 or not 0 <= service <= 9:
        raise ValueError("company code is 3 digits and service is one digit")
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
