"""Domain models shared by connectors and resolvers.

Connectors map each agency's wire format into these; the GraphQL types are derived from them
(schema/records.py), so each record is declared here once. They hold normalised values only:
ASCII digits, Persian ی/ک, `Day`s for Jalali dates, Rials as Python ints (which never overflow).
A field's `description` is what the schema documents for it.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from fractions import Fraction
from typing import NewType

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.calendar import Day

__all__ = [
    "Address",
    "Bill",
    "BillKind",
    "Deed",
    "EducationRecord",
    "Employer",
    "Gender",
    "HealthCoverage",
    "JudicialNotice",
    "License",
    "LicenseKind",
    "LicenseStatus",
    "MilitaryServiceRecord",
    "MilitaryStatus",
    "MobileCheck",
    "MobileMatch",
    "Person",
    "PropertyKind",
    "PropertyShare",
    "Rial",
    "SocialSecurityRecord",
    "TaxFiling",
    "TaxRecord",
    "Vehicle",
]


Rial = NewType("Rial", int)
"""An amount in Rials; the schema shows it as the `Rial` scalar (a digit string)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class Gender(StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"


class Person(_Model):
    """Identity as the civil registry holds it."""

    national_code: str
    first_name: str
    last_name: str
    father_name: str
    birth_date: Day
    birth_place: str
    gender: Gender
    alive: bool
    death_date: Day | None = None


class Address(_Model):
    """A resident's registered address at the post company."""

    postal_code: str
    province: str
    city: str
    street: str
    plaque: str
    unit: str | None = None
    floor: str | None = None


class MobileMatch(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NOT_REGISTERED = "NOT_REGISTERED"


class MobileCheck(_Model):
    """Shahkar's answer on whether a mobile number belongs to a national code."""

    mobile: str
    result: MobileMatch

    @property
    def matches(self) -> bool:
        """Whether the number is registered to the national code."""
        return self.result is MobileMatch.MATCH


class BillKind(StrEnum):
    WATER = "WATER"
    ELECTRICITY = "ELECTRICITY"
    GAS = "GAS"
    TELECOM = "TELECOM"
    TRAFFIC_FINE = "TRAFFIC_FINE"
    TAX = "TAX"


class Bill(_Model):
    """Something the citizen owes, payable by bill ID and payment ID."""

    kind: BillKind
    bill_id: str
    payment_id: str
    amount_rial: Rial
    due_date: Day | None = None
    period: str | None = None
    subscription: str | None = Field(
        None, description="Subscription, meter, phone number, vehicle plate or tax year it is for."
    )
    description: str | None = None
    occurred_at: dt.datetime | None = None
    location: str | None = None
    paid: bool = False


class TaxFiling(_Model):
    year: int
    status: str


class TaxRecord(_Model):
    """A taxpayer's status, filings and debts."""

    status: str
    filings: list[TaxFiling]
    debts: list[Bill]


class Vehicle(_Model):
    plate: str
    vin: str
    model: str
    year: int
    color: str


class LicenseKind(StrEnum):
    BUSINESS = "BUSINESS"
    DRIVING = "DRIVING"


class LicenseStatus(StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"


class License(_Model):
    """A license from the national licensing portal or a driving license."""

    kind: LicenseKind
    number: str
    title: str
    issuer: str
    status: LicenseStatus
    issued_at: Day | None = None
    expires_at: Day | None = None
    holder_name: str | None = None


class EducationRecord(_Model):
    level: str
    field: str
    school: str
    graduation_year: int
    gpa: float | None = None


class Employer(_Model):
    name: str
    workshop_code: str
    start: Day
    end: Day | None = None


class SocialSecurityRecord(_Model):
    insurance_no: str
    status: str
    contribution_months: int
    employers: list[Employer]


class HealthCoverage(_Model):
    covered: bool
    plan: str | None = None
    valid_until: Day | None = None


class JudicialNotice(_Model):
    notice_id: str
    title: str
    court: str
    issued_at: Day
    read: bool


class MilitaryStatus(StrEnum):
    COMPLETED = "COMPLETED"
    EXEMPT = "EXEMPT"
    ELIGIBLE = "ELIGIBLE"
    ABSENT = "ABSENT"
    STUDENT_DEFERRAL = "STUDENT_DEFERRAL"


class MilitaryServiceRecord(_Model):
    status: MilitaryStatus
    card_number: str | None = None
    issued_at: Day | None = None


class PropertyKind(StrEnum):
    """What a deed is for."""

    APARTMENT = "APARTMENT"
    HOUSE = "HOUSE"
    LAND = "LAND"
    SHOP = "SHOP"


class PropertyShare(_Model):
    """A part of a property as an exact fraction of the whole, in lowest terms.

    Deeds state shares in دانگ, sixths of the property (6 دانگ is the whole, 3 دانگ a half), often
    with fractions of a دانگ; a fraction keeps 2.5 دانگ exact where a float would not.
    """

    numerator: int = Field(ge=1)
    denominator: int = Field(ge=1)

    @model_validator(mode="after")
    def _proper_and_reduced(self) -> PropertyShare:
        if self.numerator > self.denominator:
            raise ValueError("a share cannot exceed the whole property")
        if math.gcd(self.numerator, self.denominator) != 1:
            raise ValueError("a share is kept in lowest terms")
        return self

    @classmethod
    def of(cls, part: Fraction) -> PropertyShare:
        """The share `part` of the whole (ValueError unless 0 < part <= 1)."""
        return cls(numerator=part.numerator, denominator=part.denominator)

    @property
    def dang(self) -> float:
        """The share in دانگ (0 < dang <= 6)."""
        return 6 * self.numerator / self.denominator


class Deed(_Model):
    """A property deed (سند) at the land registry, as far as it concerns the citizen."""

    deed_number: str
    kind: PropertyKind
    unit: str = Field(
        description="Registration plaque (پلاک ثبتی) as main/sub number, e.g. 4512/87: which "
        "apartment or parcel the deed is for."
    )
    address: str
    share: PropertyShare = Field(description="The citizen's share of the property.")
    issued_at: Day
