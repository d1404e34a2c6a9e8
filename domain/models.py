"""Domain models shared by connectors and resolvers.

Connectors map each agency's wire format into these; the GraphQL types are derived from them
(schema/records.py), so each record is declared here once. They hold normalised values only:
ASCII digits, Persian ی/ک, `Day`s for Jalali dates, Rials as Python ints (which never overflow).
A field's `description` is what the schema documents for it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import NewType

from pydantic import BaseModel, ConfigDict, Field

from domain.calendar import Day

__all__ = [
    "Address",
    "Bill",
    "BillKind",
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
