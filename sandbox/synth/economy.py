"""Tax, business licenses and social-security holdings of a citizen."""

from __future__ import annotations

import random

import jdatetime

from sandbox.ids import SERVICE_TAX
from sandbox.jalali import TODAY, days_from_today, safe_date, shifted
from sandbox.records import BusinessLicense, Employer, Insurance, TaxDebt, TaxRecord
from sandbox.synth.billing import digits, issue_bill, rial_amount
from sandbox.vocabulary import BUSINESS_LICENSES, EMPLOYERS, City

_BIG_TAX = (2_500_000_000, 60_000_000_000)  # above 2^31 Rials: breaks a 32-bit Int


def tax(rng: random.Random, city: City, debts: int, big_debt: bool) -> TaxRecord:
    """Filings for the last three years and the debts still open."""
    years = tuple(range(TODAY.year - 3, TODAY.year))
    filings = tuple(
        (year, rng.choices(("FILED", "LATE", "NOT_FILED"), weights=(80, 12, 8))[0])
        for year in reversed(years)
    )
    items = []
    for index in range(max(debts, 1 if big_debt else 0)):
        year = rng.choice(years)
        low, high = _BIG_TAX if big_debt and index == 0 else (2_000_000, 900_000_000)
        bill = issue_bill(
            digits(rng, 8),
            city.company_code,
            SERVICE_TAX,
            amount=rial_amount(rng, low, high),
            period=(year, 12),
            due_date=days_from_today(rng.randint(-90, 120)),
        )
        items.append(TaxDebt(rng.choice(("INCOME", "INCOME", "VAT", "PROPERTY")), year, bill))
    status = "ACTIVE" if items or rng.random() < 0.8 else "INACTIVE"
    return TaxRecord(status, filings, tuple(items))


def business_licenses(rng: random.Random, count: int) -> tuple[BusinessLicense, ...]:
    """Licenses valid three to five years; the first is a recent trade license in force."""
    items = []
    for index in range(count):
        newest = index == 0  # the first is the trade license, recent and in force
        title, issuer = BUSINESS_LICENSES[0] if newest else rng.choice(BUSINESS_LICENSES)
        oldest = TODAY.year - (2 if newest else 8)
        issued = safe_date(rng.randint(oldest, TODAY.year - 1), rng.randint(1, 12), 1)
        expiry = safe_date(issued.year + rng.randint(3, 5), issued.month, issued.day)
        status = "ACTIVE" if expiry > TODAY else "EXPIRED"
        if not newest and rng.random() < 0.1:
            status = "REVOKED"
        items.append(
            BusinessLicense(
                f"{issued.year}-{digits(rng, 6)}", title, issuer, issued, expiry, status
            )
        )
    return tuple(items)


def _months_between(start: jdatetime.date, end: jdatetime.date) -> int:
    return max(1, (end.year - start.year) * 12 + end.month - start.month)


def insurance(rng: random.Random, birth_year: int) -> Insurance:
    """A work history of 1–3 consecutive employers; the last one may still be current."""
    age = TODAY.year - birth_year
    start = safe_date(min(TODAY.year - 1, birth_year + rng.randint(19, 28)), rng.randint(1, 12), 1)
    employers: list[Employer] = []
    jobs = rng.randint(1, 3)
    for index in range(jobs):
        current = index == jobs - 1 and age < 60 and rng.random() < 0.75
        end = None
        if not current:
            end = min(shifted(start, rng.randint(200, 2500)), days_from_today(-1))
        employers.append(Employer(rng.choice(EMPLOYERS), digits(rng, 7), start, end))
        if end is None or end >= days_from_today(-31):
            break
        start = shifted(end, rng.randint(1, 120))
    months = sum(_months_between(job.start, job.end or TODAY) for job in employers)
    status = "RETIRED" if age >= 60 else ("ACTIVE" if employers[-1].end is None else "INACTIVE")
    return Insurance(digits(rng, 10), status, months, tuple(employers))
