"""Vehicles, traffic fines and the driving license the traffic police hold."""

from __future__ import annotations

import random

import jdatetime

from sandbox.ids import SERVICE_TRAFFIC_FINE
from sandbox.jalali import TODAY, compact, days_from_today, safe_date, shifted
from sandbox.records import DrivingLicense, Fine, Vehicle
from sandbox.spelling import persian_digits
from sandbox.synth.billing import digits, issue_bill
from sandbox.vocabulary import (
    CAR_COLORS,
    CAR_MODELS,
    FINE_KINDS,
    LICENSE_CATEGORIES,
    PLATE_LETTERS,
    SQUARES,
    City,
)

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # VINs never use I, O, Q


def vehicles(rng: random.Random, count: int) -> tuple[Vehicle, ...]:
    """Cars registered to the citizen, plates written with Persian digits."""
    items = []
    for _ in range(count):
        plate = (
            f"{rng.randint(11, 99)}{rng.choice(PLATE_LETTERS)}"
            f"{rng.randint(111, 999)}-{rng.randint(10, 99)}"
        )
        items.append(
            Vehicle(
                plate=persian_digits(plate),
                vin="NAA" + "".join(rng.choices(_VIN_CHARS, k=14)),
                model=rng.choice(CAR_MODELS),
                year=rng.randint(1380, TODAY.year),
                color=rng.choice(CAR_COLORS),
            )
        )
    return tuple(items)


def fines(rng: random.Random, city: City, plates: tuple[str, ...], count: int) -> tuple[Fine, ...]:
    """Unpaid fines on the citizen's plates over the last two years, newest first."""
    if not plates:
        return ()
    drafts = []
    seen: set[str] = set()
    for _ in range(count):
        day = days_from_today(-rng.randint(1, 730))
        moment = jdatetime.datetime(
            day.year, day.month, day.day, rng.randint(6, 23), rng.randint(0, 59)
        )
        fine_id = f"F{compact(day)}{rng.randint(1000, 9999)}"
        while fine_id in seen:
            fine_id = f"F{compact(day)}{rng.randint(1000, 9999)}"
        seen.add(fine_id)
        description, base = rng.choice(FINE_KINDS)
        bill = issue_bill(
            digits(rng, 8),
            city.company_code,
            SERVICE_TRAFFIC_FINE,
            amount=base * rng.choice((1, 1, 2)),
            period=(day.year, day.month),
            due_date=shifted(day, 60),
        )
        location = f"{city.name}، {rng.choice(SQUARES)}"
        drafts.append(Fine(fine_id, rng.choice(plates), bill, moment, description, location))
    drafts.sort(key=lambda fine: (fine.occurred_at, fine.fine_id), reverse=True)
    return tuple(drafts)


def driving_license(rng: random.Random, birth_year: int) -> DrivingLicense:
    """A ten-year license issued after the 18th birthday; a few are suspended."""
    issued_year = rng.randint(min(birth_year + 18, TODAY.year), TODAY.year)
    issued = safe_date(issued_year, rng.randint(1, 12), rng.randint(1, 29))
    if issued > TODAY:
        issued = days_from_today(-rng.randint(1, 300))
    expires = safe_date(issued.year + 10, issued.month, issued.day)
    status = "VALID" if expires > TODAY else "EXPIRED"
    if rng.random() < 0.04:
        status = "SUSPENDED"
    return DrivingLicense(digits(rng, 10), rng.choice(LICENSE_CATEGORIES), issued, expires, status)
