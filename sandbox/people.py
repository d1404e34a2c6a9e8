"""Every valid national code is a sandbox citizen: generated once, identical everywhere.

Each agency module renders the same `Person`, so names match across agencies; tests use
`person_for` as the oracle for what an agency must answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import jdatetime

from sandbox.ids import complete_national_code, is_valid_national_code
from sandbox.personas import PERSONAS, SHAPES
from sandbox.records import (
    Address,
    BusinessLicense,
    Coverage,
    Deed,
    DrivingLicense,
    EducationRecord,
    ElectricityBill,
    Fine,
    GasSubscription,
    Insurance,
    MilitaryRecord,
    Notice,
    Phone,
    TaxRecord,
    Vehicle,
    WaterSubscription,
)
from sandbox.synth import economy, estate, public, traffic, utilities
from sandbox.synth.identity import Identity, random_address, random_identity
from sandbox.synth.profile import Profile, random_profile

__all__ = ["PERSONAS", "Person", "person_for", "sample_national_codes"]


@dataclass(frozen=True, slots=True)
class Person:
    """A citizen and everything each agency holds about them (empty/None: agency has nothing)."""

    national_code: str
    first_name: str
    last_name: str
    father_name: str
    gender: str  # "male" | "female"
    birth_date: jdatetime.date
    birth_place: str
    alive: bool
    death_date: jdatetime.date | None
    known_to_registry: bool  # False: civil registry answers ResultCode 1
    mobile: str | None  # the only number shahkar matches (resultCode 0)
    address: Address | None  # None: post answers 404
    water: tuple[WaterSubscription, ...]
    water_customer_name: str  # "" without a subscription; sometimes the father's name
    electricity: tuple[ElectricityBill, ...]
    gas: tuple[GasSubscription, ...]
    phones: tuple[Phone, ...]
    vehicles: tuple[Vehicle, ...]
    fines: tuple[Fine, ...]  # newest first, the traffic police's page order
    driving_license: DrivingLicense | None
    tax: TaxRecord | None  # None: not a taxpayer (404)
    licenses: tuple[BusinessLicense, ...]
    insurance: Insurance | None  # None: not insured (404)
    coverage: Coverage | None  # None: unknown to health insurance (404)
    education: tuple[EducationRecord, ...]
    notices: tuple[Notice, ...] | None  # None: no SANA account (404)
    military: MilitaryRecord | None  # None: women and men without a record (404)
    deeds: tuple[Deed, ...]  # oldest first, the land registry's page order

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _rng(code: str, topic: str) -> random.Random:
    """One independent stream per topic, so changing one generator leaves others as they were."""
    return random.Random(f"panjereh-sandbox:{code}:{topic}")


def _water_name(code: str, who: Identity, shape: Profile) -> str:
    if not shape.water:
        return ""
    if (
        shape.quirks and _rng(code, "water-name").random() < 0.1
    ):  # subscription still in the father's name
        return f"{who.father_name} {who.last_name}"
    return f"{who.first_name} {who.last_name}"


def _assemble(code: str, who: Identity, shape: Profile) -> Person:
    city = who.home
    birth_year = who.birth_date.year
    cars = traffic.vehicles(_rng(code, "vehicles"), shape.vehicles)
    military = None
    if who.gender == "male" and shape.military_status is not None:
        military = public.military(_rng(code, "military"), shape.military_status, birth_year)
    return Person(
        national_code=code,
        first_name=who.first_name,
        last_name=who.last_name,
        father_name=who.father_name,
        gender=who.gender,
        birth_date=who.birth_date,
        birth_place=who.birth_place,
        alive=who.alive,
        death_date=who.death_date,
        known_to_registry=shape.known_to_registry,
        mobile=who.mobile if shape.has_mobile else None,
        address=random_address(_rng(code, "address"), city) if shape.has_address else None,
        water=utilities.water(_rng(code, "water"), city, shape.water, shape.owes_everywhere),
        water_customer_name=_water_name(code, who, shape),
        electricity=utilities.electricity(_rng(code, "electricity"), city, shape.electricity),
        gas=utilities.gas(_rng(code, "gas"), city, shape.gas, shape.owes_everywhere),
        phones=utilities.phones(_rng(code, "phones"), city, shape.phones, shape.owes_everywhere),
        vehicles=cars,
        fines=traffic.fines(
            _rng(code, "fines"), city, tuple(car.plate for car in cars), shape.fines
        ),
        driving_license=(
            traffic.driving_license(_rng(code, "driving"), birth_year)
            if shape.driving_license
            else None
        ),
        tax=(
            economy.tax(_rng(code, "tax"), city, shape.tax_debts, shape.big_tax_debt)
            if shape.taxpayer
            else None
        ),
        licenses=economy.business_licenses(_rng(code, "licenses"), shape.licenses),
        insurance=economy.insurance(_rng(code, "insurance"), birth_year) if shape.insured else None,
        coverage=(
            public.coverage(_rng(code, "coverage"), shape.health_covered)
            if shape.health_known
            else None
        ),
        education=public.education(_rng(code, "education"), birth_year, shape.education),
        notices=(
            public.notices(_rng(code, "notices"), city.name, shape.notices) if shape.sana else None
        ),
        military=military,
        deeds=estate.deeds(_rng(code, "deeds"), city, shape.deeds),
    )


@lru_cache(maxsize=100_000)
def person_for(national_code: str) -> Person:
    """The citizen behind a valid national code (ValueError for an invalid one)."""
    if not is_valid_national_code(national_code):
        raise ValueError(f"invalid national code: {national_code!r}")
    shape = SHAPES.get(national_code)
    if shape is not None:
        return _assemble(national_code, *shape)
    who = random_identity(_rng(national_code, "identity"))
    profile = random_profile(_rng(national_code, "profile"), who.gender, who.birth_date.year)
    return _assemble(national_code, who, profile)


def sample_national_codes(count: int) -> list[str]:
    """`count` distinct valid national codes, the same list every time (personas excluded)."""
    rng = random.Random("panjereh-sandbox:sample-codes")
    taken = set(PERSONAS.values())
    codes: list[str] = []
    while len(codes) < count:
        code = complete_national_code(f"{rng.randrange(10**9):09d}")
        if code not in taken and is_valid_national_code(code):
            taken.add(code)
            codes.append(code)
    return codes
