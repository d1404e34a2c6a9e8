"""Which agencies know a citizen and how much they hold: drawn per code, or fixed for personas.

Deciding the shape first and filling in the details afterwards lets personas force a shape
("has everything", "has nothing") while still getting realistic details.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sandbox.jalali import TODAY


@dataclass(frozen=True, slots=True)
class Profile:
    """Counts and flags per agency; zero/False/None means the agency holds nothing."""

    known_to_registry: bool = True
    has_mobile: bool = True
    has_address: bool = True
    water: int = 0  # subscriptions
    electricity: int = 0  # unpaid bills
    gas: int = 0  # subscriptions
    phones: int = 0  # fixed lines
    owes_everywhere: bool = False  # every subscription/line has an unpaid bill
    vehicles: int = 0
    fines: int = 0
    driving_license: bool = False
    taxpayer: bool = False
    tax_debts: int = 0
    big_tax_debt: bool = False  # at least one debt above 2^31 Rials
    licenses: int = 0
    insured: bool = False
    health_known: bool = True  # False: health insurance answers 404
    health_covered: bool = False
    education: int = 0  # levels completed, counted from PRIMARY
    sana: bool = False
    notices: int = 0
    military_status: str | None = None  # None: no military-service record (404)
    deeds: int = 0  # property deeds at the land registry
    quirks: bool = True  # small real-life inconsistencies (e.g. a bill in the father's name)


def _chance(rng: random.Random, probability: float) -> bool:
    return rng.random() < probability


def _military_status(rng: random.Random, gender: str, age: int) -> str | None:
    """Men only; young men are eligible or deferred, older ones mostly done or exempt."""
    if gender != "male" or _chance(rng, 0.04):
        return None
    if age < 19:
        return "ELIGIBLE"
    if age < 26 and _chance(rng, 0.5):
        return rng.choice(("STUDENT_DEFERRAL", "ELIGIBLE", "ABSENT"))
    return rng.choices(("COMPLETED", "EXEMPT", "ABSENT"), weights=(75, 20, 5))[0]


def random_profile(rng: random.Random, gender: str, birth_year: int) -> Profile:
    """A plausible mix: most people appear in most agencies, with realistic gaps."""
    age = TODAY.year - birth_year
    adult = age >= 18
    drives = adult and _chance(rng, 0.7)
    vehicles = rng.choice((1, 1, 1, 2, 3)) if drives and _chance(rng, 0.75) else 0
    taxpayer = adult and _chance(rng, 0.7)
    sana = _chance(rng, 0.6)
    return Profile(
        known_to_registry=not _chance(rng, 0.05),
        has_mobile=not _chance(rng, 0.02),
        has_address=not _chance(rng, 0.08),
        water=rng.choices((0, 1, 2), weights=(20, 70, 10))[0],
        electricity=rng.choices((0, 1, 2), weights=(25, 60, 15))[0],
        gas=rng.choices((0, 1, 2), weights=(30, 60, 10))[0],
        phones=rng.choices((0, 1, 2), weights=(40, 50, 10))[0],
        vehicles=vehicles,
        fines=rng.choices((0, 1, 3, 7, 14), weights=(45, 20, 20, 10, 5))[0] if vehicles else 0,
        driving_license=drives,
        taxpayer=taxpayer,
        tax_debts=rng.choices((0, 1, 2), weights=(55, 35, 10))[0] if taxpayer else 0,
        big_tax_debt=taxpayer and _chance(rng, 0.1),
        licenses=rng.choices((0, 1, 2), weights=(75, 20, 5))[0] if adult else 0,
        insured=adult and _chance(rng, 0.65),
        health_covered=_chance(rng, 0.85),
        education=min(4, max(0, (age - 6) // 3)) if _chance(rng, 0.9) else 0,
        sana=sana,
        notices=rng.choices((0, 1, 2, 4), weights=(40, 35, 15, 10))[0] if sana else 0,
        military_status=_military_status(rng, gender, age),
        deeds=rng.choices((0, 1, 2, 3, 7, 12), weights=(45, 30, 12, 7, 4, 2))[0] if adult else 0,
    )
