"""Issuing bills the way Iranian billers do: bill ID + payment ID coding the amount."""

from __future__ import annotations

import random

import jdatetime

from sandbox.ids import make_bill_id, make_payment_id
from sandbox.jalali import TODAY
from sandbox.records import Bill


def months_ago(months: int) -> tuple[int, int]:
    """(Jalali year, month) `months` before the sandbox's current month."""
    index = TODAY.year * 12 + (TODAY.month - 1) - months
    return index // 12, index % 12 + 1


def rial_amount(rng: random.Random, low: int, high: int) -> int:
    """A random amount in [low, high] Rials, rounded to a multiple of 1000 (at least 1000)."""
    return max(1000, rng.randint(low, high) // 1000 * 1000)


def digits(rng: random.Random, count: int) -> str:
    """`count` random digits, the first non-zero (so the number keeps its length)."""
    return str(rng.randint(1, 9)) + "".join(rng.choices("0123456789", k=count - 1))


def issue_bill(
    file_code: str,
    company_code: str,
    service: int,
    *,
    amount: int,
    period: tuple[int, int],
    due_date: jdatetime.date,
    paid: bool = False,
) -> Bill:
    """A bill for `period` (Jalali year, month) with valid check digits."""
    year, month = period
    bill_id = make_bill_id(file_code, company_code, service)
    return Bill(
        bill_id=bill_id,
        payment_id=make_payment_id(bill_id, amount, year, month),
        amount=amount,
        due_date=due_date,
        period=f"{year:04d}-{month:02d}",
        paid=paid,
    )
