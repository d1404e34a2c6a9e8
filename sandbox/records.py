"""What each agency holds about a citizen, in agency-neutral form.

Agency modules render these into their own wire formats; tests read them (through
`person_for`) as the oracle for what an agency must answer. Strings are stored as the agency
shows them except for digits and ی/ک, which the post and licensing portal convert on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import jdatetime


@dataclass(frozen=True, slots=True)
class Bill:
    """Something payable with a bill ID / payment ID pair (utility bill, fine, tax debt)."""

    bill_id: str
    payment_id: str
    amount: int
    due_date: jdatetime.date
    period: str  # "1403-06": Jalali year and period coded in the payment ID
    paid: bool = False


@dataclass(frozen=True, slots=True)
class Address:
    """A registered residence; digits are ASCII here, Persian on the post's wire."""

    postal_code: str
    province: str
    city: str
    street: str
    plaque: str
    unit: str | None
    floor: str | None


@dataclass(frozen=True, slots=True)
class WaterSubscription:
    subscription_no: str
    bills: tuple[Bill, ...]


@dataclass(frozen=True, slots=True)
class ElectricityBill:
    meter_no: str
    consumption_kwh: int
    bill: Bill


@dataclass(frozen=True, slots=True)
class GasSubscription:
    eshterak: str
    last_bill: Bill | None


@dataclass(frozen=True, slots=True)
class Phone:
    number: str
    debt: Bill | None


@dataclass(frozen=True, slots=True)
class Vehicle:
    plate: str  # wire form with Persian digits, e.g. "۱۲ب۳۴۵-۶۷"
    vin: str
    model: str
    year: int
    color: str


@dataclass(frozen=True, slots=True)
class Fine:
    fine_id: str
    plate: str
    bill: Bill
    occurred_at: jdatetime.datetime
    description: str
    location: str


@dataclass(frozen=True, slots=True)
class DrivingLicense:
    number: str
    category: str
    issued_at: jdatetime.date
    expires_at: jdatetime.date
    status: str  # VALID, EXPIRED, SUSPENDED


@dataclass(frozen=True, slots=True)
class TaxDebt:
    kind: str  # INCOME, VAT, PROPERTY
    year: int
    bill: Bill


@dataclass(frozen=True, slots=True)
class TaxRecord:
    status: str  # ACTIVE, INACTIVE
    filings: tuple[tuple[int, str], ...]  # (year, FILED | NOT_FILED | LATE)
    debts: tuple[TaxDebt, ...]


@dataclass(frozen=True, slots=True)
class BusinessLicense:
    """Stored with Persian letters; the licensing portal writes ي/ك."""

    license_no: str
    title: str
    issuer: str
    issue_date: jdatetime.date
    expiry_date: jdatetime.date
    status: str  # ACTIVE, EXPIRED, REVOKED


@dataclass(frozen=True, slots=True)
class Employer:
    name: str
    workshop_code: str
    start: jdatetime.date
    end: jdatetime.date | None


@dataclass(frozen=True, slots=True)
class Insurance:
    insurance_no: str
    status: str  # ACTIVE, INACTIVE, RETIRED
    contribution_months: int
    employers: tuple[Employer, ...]


@dataclass(frozen=True, slots=True)
class Coverage:
    covered: bool
    plan: str | None
    valid_until: jdatetime.date | None


@dataclass(frozen=True, slots=True)
class EducationRecord:
    level: str  # PRIMARY, MIDDLE, DIPLOMA, PRE_UNIVERSITY
    field: str
    school: str
    graduation_year: int
    gpa: float


@dataclass(frozen=True, slots=True)
class Notice:
    notice_id: str
    title: str
    court: str  # Persian digits, as SANA writes it
    issued_at: jdatetime.date
    read: bool


@dataclass(frozen=True, slots=True)
class MilitaryRecord:
    status: str  # COMPLETED, EXEMPT, ELIGIBLE, ABSENT, STUDENT_DEFERRAL
    card_number: str | None
    issued_at: jdatetime.date | None


@dataclass(frozen=True, slots=True)
class Deed:
    """A property deed (سند) at the land registry; digits ASCII here, Persian on its wire."""

    deed_no: str  # 12 digits: issue year + 8
    kind: str  # APARTMENT, HOUSE, LAND, SHOP
    plaque: str  # registration plaque (پلاک ثبتی) "main/sub", e.g. "4512/87"
    address: str
    dang: Fraction  # the citizen's share in دانگ, 6 being the whole property
    issued_at: jdatetime.date
