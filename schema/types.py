"""GraphQL object types for agency data, each built from a domain model and its `Source`."""

from __future__ import annotations

import datetime as dt
from typing import Self

import strawberry

from domain import models as m
from domain.jalali import format_jalali
from domain.sourced import Fetched, Source
from schema.scalars import Rial

__all__ = [
    "Address",
    "Bill",
    "CalendarDate",
    "EducationRecord",
    "EducationRecords",
    "HealthCoverage",
    "JudicialNotice",
    "JudicialNotices",
    "License",
    "MilitaryService",
    "MobileCheck",
    "Profile",
    "SocialSecurity",
    "SourceInfo",
    "TaxFiling",
    "TaxStatus",
    "Vehicle",
    "VehicleList",
]

BillKind = strawberry.enum(m.BillKind, description="Which kind of payable a bill is.")
Gender = strawberry.enum(m.Gender)
LicenseKind = strawberry.enum(m.LicenseKind)
LicenseStatus = strawberry.enum(m.LicenseStatus)
MobileMatch = strawberry.enum(m.MobileMatch, description="Shahkar's verdict on a mobile number.")
MilitaryStatus = strawberry.enum(m.MilitaryStatus)


@strawberry.type(description="Where a piece of agency data came from and how old it is.")
class SourceInfo:
    agency: str
    fetched_at: dt.datetime
    age_seconds: int
    stale: bool = strawberry.field(
        description="True when the agency failed and this is a cached copy within its stale window."
    )

    @classmethod
    def of(cls, source: Source) -> Self:
        return cls(
            agency=source.agency,
            fetched_at=source.fetched_at,
            age_seconds=int(source.age_seconds()),
            stale=source.stale,
        )


@strawberry.type(description="A calendar day, in ISO (Gregorian) and Jalali forms.")
class CalendarDate:
    iso: dt.date
    jalali: str = strawberry.field(description="Jalali date as YYYY/MM/DD with ASCII digits.")

    @classmethod
    def of(cls, day: dt.date | None) -> Self | None:
        return None if day is None else cls(iso=day, jalali=format_jalali(day))


@strawberry.type(description="Identity as held by the civil registry.")
class Profile:
    national_code: str
    first_name: str
    last_name: str
    father_name: str
    birth_date: CalendarDate
    birth_place: str
    gender: Gender
    alive: bool
    death_date: CalendarDate | None
    source: SourceInfo

    @classmethod
    def of(cls, fetched: Fetched[m.Person]) -> Self:
        p = fetched.value
        return cls(
            national_code=p.national_code,
            first_name=p.first_name,
            last_name=p.last_name,
            father_name=p.father_name,
            birth_date=CalendarDate.of(p.birth_date),  # type: ignore[arg-type]
            birth_place=p.birth_place,
            gender=p.gender,
            alive=p.alive,
            death_date=CalendarDate.of(p.death_date),
            source=SourceInfo.of(fetched.source),
        )


@strawberry.type(description="The registered address at the national post company.")
class Address:
    postal_code: str
    province: str
    city: str
    street: str
    plaque: str
    unit: str | None
    floor: str | None
    source: SourceInfo

    @classmethod
    def of(cls, fetched: Fetched[m.Address]) -> Self:
        a = fetched.value
        return cls(
            postal_code=a.postal_code,
            province=a.province,
            city=a.city,
            street=a.street,
            plaque=a.plaque,
            unit=a.unit,
            floor=a.floor,
            source=SourceInfo.of(fetched.source),
        )


@strawberry.type(description="Whether a mobile number belongs to the citizen (Shahkar).")
class MobileCheck:
    mobile: str
    result: MobileMatch
    matches: bool
    source: SourceInfo

    @classmethod
    def of(cls, fetched: Fetched[m.MobileCheck]) -> Self:
        c = fetched.value
        return cls(
            mobile=c.mobile,
            result=c.result,
            matches=c.result is m.MobileMatch.MATCH,
            source=SourceInfo.of(fetched.source),
        )


@strawberry.type(description="Something the citizen owes, payable by bill ID and payment ID.")
class Bill:
    kind: BillKind
    bill_id: str
    payment_id: str
    amount: Rial
    due_date: CalendarDate | None
    period: str | None
    subscription: str | None = strawberry.field(
        description="Subscription, meter, phone number, vehicle plate or tax year it is for."
    )
    description: str | None
    occurred_at: dt.datetime | None
    location: str | None
    paid: bool
    source: SourceInfo

    @classmethod
    def of(cls, bill: m.Bill, source: Source) -> Self:
        return cls(
            kind=bill.kind,
            bill_id=bill.bill_id,
            payment_id=bill.payment_id,
            amount=bill.amount_rial,
            due_date=CalendarDate.of(bill.due_date),
            period=bill.period,
            subscription=bill.subscription,
            description=bill.description,
            occurred_at=bill.occurred_at,
            location=bill.location,
            paid=bill.paid,
            source=SourceInfo.of(source),
        )


@strawberry.type
class TaxFiling:
    year: int
    status: str


@strawberry.type(description="A license from the national licensing portal or traffic police.")
class License:
    kind: LicenseKind
    number: str
    title: str
    issuer: str
    status: LicenseStatus
    issued_at: CalendarDate | None
    expires_at: CalendarDate | None
    holder_name: str | None
    source: SourceInfo

    @classmethod
    def of(cls, lic: m.License, source: Source) -> Self:
        return cls(
            kind=lic.kind,
            number=lic.number,
            title=lic.title,
            issuer=lic.issuer,
            status=lic.status,
            issued_at=CalendarDate.of(lic.issued_at),
            expires_at=CalendarDate.of(lic.expires_at),
            holder_name=lic.holder_name,
            source=SourceInfo.of(source),
        )


@strawberry.type
class Vehicle:
    plate: str
    vin: str
    model: str
    year: int
    color: str


@strawberry.type(description="Vehicles registered to the citizen (traffic police).")
class VehicleList:
    items: list[Vehicle]
    source: SourceInfo

    @classmethod
    def of(cls, fetched: Fetched[list[m.Vehicle]]) -> Self:
        items = [Vehicle(**v.model_dump()) for v in fetched.value]
        return cls(items=items, source=SourceInfo.of(fetched.source))


@strawberry.type
class EducationRecord:
    level: str
    field: str
    school: str
    graduation_year: int
    gpa: float | None


@strawberry.type(description="Diplomas and school records (ministry of education).")
class EducationRecords:
    items: list[EducationRecord]
    source: SourceInfo

    @classmethod
    def of(cls, fetched: Fetched[list[m.EducationRecord]]) -> Self:
        items = [EducationRecord(**r.model_dump()) for r in fetched.value]
        return cls(items=items, source=SourceInfo.of(fetched.source))


@strawberry.type
class Employer:
    name: str
    workshop_code: str
    start: CalendarDate
    end: CalendarDate | None


@strawberry.type(description="Insurance record at the social security organisation.")
class SocialSecurity:
    insurance_no: str
    status: str
    contribution_months: int
    employers: list[Employer]
    source: SourceInfo

    @classmethod
    def of(cls, fetched: Fetched[m.SocialSecurityRecord]) -> Self:
        r = fetched.value
        employers = [
            Employer(
                name=e.name,
                workshop_code=e.workshop_code,
                start=CalendarDate.of(e.start),  # type: ignore[arg-type]
                end=CalendarDate.of(e.end),
            )
            for e in r.employers
        ]
        return cls(
            insurance_no=r.insurance_no,
            status=r.status,
            contribution_months=r.contribution_months,
            employers=employers,
            source=SourceInfo.of(fetched.source),
        )


@strawberry.type(description="Coverage at the health insurance organisation.")
class HealthCoverage:
    covered: bool
    plan: str | None
    valid_until: CalendarDate | None
    source: SourceInfo

    @classmethod
    def of(cls, fetched: Fetched[m.HealthCoverage]) -> Self:
        c = fetched.value
        return cls(
            covered=c.covered,
            plan=c.plan,
            valid_until=CalendarDate.of(c.valid_until),
            source=SourceInfo.of(fetched.source),
        )


@strawberry.type
class JudicialNotice:
    notice_id: str
    title: str
    court: str
    issued_at: CalendarDate
    read: bool


@strawberry.type(description="Judicial notices (ابلاغیه) in the SANA system.")
class JudicialNotices:
    items: list[JudicialNotice]
    unread_count: int
    source: SourceInfo

    @classmethod
    def of(cls, fetched: Fetched[list[m.JudicialNotice]]) -> Self:
        items = [
            JudicialNotice(
                notice_id=n.notice_id,
                title=n.title,
                court=n.court,
                issued_at=CalendarDate.of(n.issued_at),  # type: ignore[arg-type]
                read=n.read,
            )
            for n in fetched.value
        ]
        unread = sum(1 for n in fetched.value if not n.read)
        return cls(items=items, unread_count=unread, source=SourceInfo.of(fetched.source))


@strawberry.type(description="Military service status (نظام وظیفه).")
class MilitaryService:
    status: MilitaryStatus
    card_number: str | None
    issued_at: CalendarDate | None
    source: SourceInfo

    @classmethod
    def of(cls, fetched: Fetched[m.MilitaryServiceRecord]) -> Self:
        r = fetched.value
        return cls(
            status=r.status,
            card_number=r.card_number,
            issued_at=CalendarDate.of(r.issued_at),
            source=SourceInfo.of(fetched.source),
        )


@strawberry.type(description="Taxpayer status and filings (tax administration).")
class TaxStatus:
    status: str
    filings: list[TaxFiling]
    source: SourceInfo

    @classmethod
    def of(cls, fetched: Fetched[m.TaxRecord]) -> Self:
        r = fetched.value
        filings = [TaxFiling(year=f.year, status=f.status) for f in r.filings]
        return cls(status=r.status, filings=filings, source=SourceInfo.of(fetched.source))
