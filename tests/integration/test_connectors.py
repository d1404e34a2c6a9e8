"""Every connector against the sandbox agencies over real HTTP on loopback: the complete persona's
data arrives mapped and normalised exactly as `person_for` holds it, and unknown people come back
as not found (or as an empty list where docs/agencies.md says so)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from cache.memory import MemoryCache
from cache.store import CacheStore
from connectors.agencies import traffic_police
from connectors.pipeline.transport import AioHttpTransport
from connectors.registry import Connectors, build_connectors
from domain.digits import to_ascii_digits
from domain.errors import AgencyBadResponse, AgencyNotFound
from domain.models import (
    Address,
    Bill,
    BillKind,
    Deed,
    EducationRecord,
    Employer,
    Gender,
    HealthCoverage,
    JudicialNotice,
    License,
    LicenseKind,
    LicenseStatus,
    MilitaryServiceRecord,
    MilitaryStatus,
    MobileMatch,
    Person,
    PropertyKind,
    PropertyShare,
    SocialSecurityRecord,
    TaxFiling,
    TaxRecord,
    Vehicle,
)
from domain.sourced import Fetched
from observability.metrics import Metrics
from sandbox import PERSONAS, FaultSpec, Sandbox, person_for, sample_national_codes
from sandbox import Person as SandboxPerson
from sandbox import records as sb

COMPLETE = PERSONAS["complete"]
SPARSE = PERSONAS["sparse"]
UNKNOWN = PERSONAS["unknown"]

_DRIVING_STATUS = {
    "VALID": LicenseStatus.ACTIVE,
    "EXPIRED": LicenseStatus.EXPIRED,
    "SUSPENDED": LicenseStatus.SUSPENDED,
}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb_ = Sandbox(host="127.0.0.1")
    await sb_.start()
    try:
        yield sb_
    finally:
        await sb_.stop()


@pytest.fixture
async def agencies(sandbox: Sandbox) -> AsyncIterator[Connectors]:
    metrics = Metrics()
    async with aiohttp.ClientSession() as session:
        yield build_connectors(
            sandbox.urls,
            transport=AioHttpTransport(session),
            cache=CacheStore(MemoryCache(), key_secret=b"t", metrics=metrics),
            metrics=metrics,
        )


async def _value(call: Awaitable[Fetched[Any]], agency: str) -> Any:
    fetched = await call
    assert fetched.source.agency == agency
    assert not fetched.source.stale
    assert not isinstance(fetched.value, list), "a list answer is handed out as a tuple"
    return list(fetched.value) if isinstance(fetched.value, tuple) else fetched.value


def _bill(kind: BillKind, bill: sb.Bill, subscription: str, **extra: Any) -> Bill:
    return Bill(
        kind=kind,
        bill_id=bill.bill_id,
        payment_id=bill.payment_id,
        amount_rial=bill.amount,
        due_date=bill.due_date.togregorian(),
        subscription=subscription,
        **extra,
    )


# -- the complete persona, agency by agency -------------------------------------------------------


async def test_civil_registry(agencies: Connectors) -> None:
    p = person_for(COMPLETE)
    person = await _value(agencies.civil_registry.fetch_person(COMPLETE), "civil-registry")
    assert person == Person(
        national_code=COMPLETE,
        first_name=p.first_name,
        last_name=p.last_name,
        father_name=p.father_name,
        birth_date=p.birth_date.togregorian(),
        birth_place=p.birth_place,
        gender=Gender.MALE,
        alive=True,
    )


async def test_post(agencies: Connectors) -> None:
    a = person_for(COMPLETE).address
    assert a is not None
    address = await _value(agencies.post.fetch_address(COMPLETE), "post")
    assert address == Address(
        postal_code=a.postal_code,
        province=a.province,
        city=a.city,
        street=address.street,
        plaque=a.plaque,
        unit=a.unit,
        floor=a.floor,
    )
    # The street is display text and keeps its Persian digits; only digit forms differ.
    assert to_ascii_digits(address.street) == a.street
    assert address.postal_code.isascii() and len(address.postal_code) == 10


async def test_shahkar(agencies: Connectors) -> None:
    p = person_for(COMPLETE)
    assert p.mobile is not None
    check = await _value(agencies.shahkar.check_mobile(COMPLETE, p.mobile), "shahkar")
    assert (check.mobile, check.result) == (p.mobile, MobileMatch.MATCH)
    other = "09350000000" if p.mobile != "09350000000" else "09350000001"
    check = await _value(agencies.shahkar.check_mobile(COMPLETE, other), "shahkar")
    assert check.result in (MobileMatch.MISMATCH, MobileMatch.NOT_REGISTERED)


async def test_water(agencies: Connectors) -> None:
    p = person_for(COMPLETE)
    bills = await _value(agencies.water.fetch_bills(COMPLETE), "water")
    expected = [
        _bill(BillKind.WATER, b, s.subscription_no, period=b.period, paid=b.paid)
        for s in p.water
        for b in s.bills
    ]
    assert expected and bills == expected


async def test_electricity(agencies: Connectors) -> None:
    p = person_for(COMPLETE)
    bills = await _value(agencies.electricity.fetch_bills(COMPLETE), "electricity")
    expected = [_bill(BillKind.ELECTRICITY, e.bill, e.meter_no) for e in p.electricity]
    assert expected and bills == expected


async def test_gas(agencies: Connectors) -> None:
    p = person_for(COMPLETE)
    bills = await _value(agencies.gas.fetch_bills(COMPLETE), "gas")
    expected = [
        _bill(BillKind.GAS, s.last_bill, s.eshterak) for s in p.gas if s.last_bill is not None
    ]
    assert expected and bills == expected


async def test_telecom(agencies: Connectors) -> None:
    p = person_for(COMPLETE)
    bills = await _value(agencies.telecom.fetch_bills(COMPLETE), "telecom")
    expected = [_bill(BillKind.TELECOM, ph.debt, ph.number) for ph in p.phones if ph.debt]
    assert expected and bills == expected


def _expected_fines(p: SandboxPerson) -> list[Bill]:
    return [
        Bill(
            kind=BillKind.TRAFFIC_FINE,
            bill_id=f.bill.bill_id,
            payment_id=f.bill.payment_id,
            amount_rial=f.bill.amount,
            subscription=to_ascii_digits(f.plate),
            description=f.description,
            occurred_at=f.occurred_at.togregorian(),
            location=f.location,
        )
        for f in p.fines
    ]


async def test_traffic_police(agencies: Connectors) -> None:
    p = person_for(COMPLETE)
    tp = agencies.traffic_police
    vehicles = await _value(tp.fetch_vehicles(COMPLETE), "traffic-police")
    assert vehicles == [
        Vehicle(
            plate=to_ascii_digits(v.plate), vin=v.vin, model=v.model, year=v.year, color=v.color
        )
        for v in p.vehicles
    ]
    assert len(vehicles) == 2

    fines = await _value(tp.fetch_fines(COMPLETE), "traffic-police")
    assert fines == _expected_fines(p)
    assert len(fines) == 23

    held = p.driving_license
    assert held is not None
    lic = await _value(tp.fetch_driving_license(COMPLETE), "traffic-police")
    assert lic == License(
        kind=LicenseKind.DRIVING,
        number=held.number,
        title=held.category,
        issuer="پلیس راهور",
        status=_DRIVING_STATUS[held.status],
        issued_at=held.issued_at.togregorian(),
        expires_at=held.expires_at.togregorian(),
    )


async def test_traffic_police_fetches_later_pages_concurrently(
    agencies: Connectors, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With pages of 10 the complete persona's 23 fines take three pages, fetched and joined in
    the agency's order."""
    monkeypatch.setattr(traffic_police, "_PAGE_SIZE", 10)
    sandbox.reset_calls()
    fines = await _value(agencies.traffic_police.fetch_fines(COMPLETE), "traffic-police")
    assert fines == _expected_fines(person_for(COMPLETE))
    assert sandbox.calls("traffic-police") == 3


def _expected_deeds(p: SandboxPerson) -> list[Deed]:
    return [
        Deed(
            deed_number=d.deed_no,
            kind=PropertyKind(d.kind),
            unit=d.plaque,
            address=d.address,
            share=PropertyShare.of(d.dang / 6),
            issued_at=d.issued_at.togregorian(),
        )
        for d in p.deeds
    ]


async def test_land_registry_walks_every_page(agencies: Connectors, sandbox: Sandbox) -> None:
    """Seven deeds come in pages of five: two requests, the second after the first's cursor, and
    the deeds oldest first with Persian digits made ASCII."""
    sandbox.reset_calls()
    deeds = await _value(agencies.land_registry.fetch_deeds(COMPLETE), "land-registry")
    assert deeds == _expected_deeds(person_for(COMPLETE))
    assert len(deeds) == 7
    assert sandbox.calls("land-registry") == 2
    assert [d.issued_at for d in deeds] == sorted(d.issued_at for d in deeds)
    assert {d.share.dang for d in deeds} == {6.0, 3.0}  # some owned whole, one half
    assert all(d.unit.isascii() and d.deed_number.isdigit() for d in deeds)


async def test_land_registry_owners_of_nothing(agencies: Connectors, sandbox: Sandbox) -> None:
    sandbox.reset_calls()
    for code in (SPARSE, UNKNOWN):
        assert await _value(agencies.land_registry.fetch_deeds(code), "land-registry") == []
    assert sandbox.calls("land-registry") == 2


async def test_tax(agencies: Connectors) -> None:
    t = person_for(COMPLETE).tax
    assert t is not None
    record = await _value(agencies.tax.fetch_tax_record(COMPLETE), "tax")
    assert record == TaxRecord(
        status=t.status,
        filings=[TaxFiling(year=y, status=s) for y, s in t.filings],
        debts=[_bill(BillKind.TAX, d.bill, str(d.year), description=d.kind) for d in t.debts],
    )
    assert any(d.amount_rial > 2**31 for d in record.debts)


async def test_licensing_portal(agencies: Connectors) -> None:
    p = person_for(COMPLETE)
    licenses = await _value(agencies.licensing_portal.fetch_licenses(COMPLETE), "licensing-portal")
    assert licenses == [
        License(
            kind=LicenseKind.BUSINESS,
            number=lic.license_no,
            title=lic.title,
            issuer=lic.issuer,
            status=LicenseStatus(lic.status),
            issued_at=lic.issue_date.togregorian(),
            expires_at=lic.expiry_date.togregorian(),
            holder_name=p.full_name,
        )
        for lic in p.licenses
    ]
    text = "".join(f"{x.title}{x.issuer}{x.holder_name}" for x in licenses)
    assert licenses and "\u064a" not in text and "\u0643" not in text


async def test_social_security(agencies: Connectors) -> None:
    i = person_for(COMPLETE).insurance
    assert i is not None
    record = await _value(agencies.social_security.fetch_record(COMPLETE), "social-security")
    assert record == SocialSecurityRecord(
        insurance_no=i.insurance_no,
        status=i.status,
        contribution_months=i.contribution_months,
        employers=[
            Employer(
                name=e.name,
                workshop_code=e.workshop_code,
                start=e.start.togregorian(),
                end=None if e.end is None else e.end.togregorian(),
            )
            for e in i.employers
        ],
    )


async def test_health_insurance(agencies: Connectors) -> None:
    c = person_for(COMPLETE).coverage
    assert c is not None and c.valid_until is not None
    coverage = await _value(agencies.health_insurance.fetch_coverage(COMPLETE), "health-insurance")
    assert coverage == HealthCoverage(
        covered=True, plan=c.plan, valid_until=c.valid_until.togregorian()
    )


async def test_education(agencies: Connectors) -> None:
    p = person_for(COMPLETE)
    records = await _value(agencies.education.fetch_records(COMPLETE), "education")
    assert records == [
        EducationRecord(
            level=r.level,
            field=r.field,
            school=r.school,
            graduation_year=r.graduation_year,
            gpa=r.gpa,
        )
        for r in p.education
    ]
    assert len(records) == 4


async def test_judiciary(agencies: Connectors) -> None:
    notices = person_for(COMPLETE).notices
    assert notices
    got = await _value(agencies.judiciary.fetch_notices(COMPLETE), "judiciary")
    assert got == [
        JudicialNotice(
            notice_id=n.notice_id,
            title=n.title,
            court=n.court,
            issued_at=n.issued_at.togregorian(),
            read=n.read,
        )
        for n in notices
    ]


async def test_military_service(agencies: Connectors) -> None:
    m = person_for(COMPLETE).military
    assert m is not None
    record = await _value(agencies.military_service.fetch_status(COMPLETE), "military-service")
    assert record == MilitaryServiceRecord(
        status=MilitaryStatus(m.status),
        card_number=m.card_number,
        issued_at=None if m.issued_at is None else m.issued_at.togregorian(),
    )


# -- a sample of ordinary citizens ---------------------------------------------------------------


async def _found(call: Awaitable[Fetched[Any]]) -> Any:
    """The value, or None when the agency holds no record."""
    try:
        return (await call).value
    except AgencyNotFound:
        return None


async def test_sampled_citizens_map_like_the_oracle(agencies: Connectors) -> None:
    """Random citizens exercise shapes the personas do not (no address, women, retirees, …):
    every operation maps, and holds exactly as much as `person_for` says."""
    a = agencies
    for code in sample_national_codes(40):
        p = person_for(code)
        address = await _found(a.post.fetch_address(code))
        assert (address is None) == (p.address is None), code
        assert len(await _value(a.electricity.fetch_bills(code), "electricity")) == len(
            p.electricity
        )
        gas_owed = [s for s in p.gas if s.last_bill is not None]
        assert len(await _value(a.gas.fetch_bills(code), "gas")) == len(gas_owed)
        phones_owed = [ph for ph in p.phones if ph.debt is not None]
        assert len(await _value(a.telecom.fetch_bills(code), "telecom")) == len(phones_owed)
        tp = a.traffic_police
        assert len(await _value(tp.fetch_vehicles(code), "traffic-police")) == len(p.vehicles)
        assert await _value(tp.fetch_fines(code), "traffic-police") == _expected_fines(p)
        held = await _found(tp.fetch_driving_license(code))
        assert (held is None) == (p.driving_license is None), code
        record = await _found(a.tax.fetch_tax_record(code))
        assert (record is None) == (p.tax is None), code
        licenses = await _value(a.licensing_portal.fetch_licenses(code), "licensing-portal")
        assert [lic.title for lic in licenses] == [lic.title for lic in p.licenses]
        insured = await _found(a.social_security.fetch_record(code))
        assert (insured is None) == (p.insurance is None), code
        coverage = await _found(a.health_insurance.fetch_coverage(code))
        assert (coverage is None) == (p.coverage is None), code
        if coverage is not None and p.coverage is not None:
            assert coverage.covered == p.coverage.covered
        education = await _value(a.education.fetch_records(code), "education")
        assert [r.level for r in education] == [r.level for r in p.education]
        notices = await _found(a.judiciary.fetch_notices(code))
        expected_notices = None if p.notices is None else len(p.notices)
        assert (None if notices is None else len(notices)) == expected_notices, code
        deeds = await _value(a.land_registry.fetch_deeds(code), "land-registry")
        assert deeds == _expected_deeds(p), code
        military = await _found(a.military_service.fetch_status(code))
        assert (military is None) == (p.military is None), code
        if military is not None and p.military is not None:
            assert military.status == p.military.status


# -- broken answers ------------------------------------------------------------------------------

_OPERATIONS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "post": [("fetch_address", (COMPLETE,))],
    "shahkar": [("check_mobile", (COMPLETE, "09121234567"))],
    "electricity": [("fetch_bills", (COMPLETE,))],
    "gas": [("fetch_bills", (COMPLETE,))],
    "telecom": [("fetch_bills", (COMPLETE,))],
    "traffic-police": [
        ("fetch_vehicles", (COMPLETE,)),
        ("fetch_fines", (COMPLETE,)),
        ("fetch_driving_license", (COMPLETE,)),
    ],
    "tax": [("fetch_tax_record", (COMPLETE,))],
    "licensing-portal": [("fetch_licenses", (COMPLETE,))],
    "social-security": [("fetch_record", (COMPLETE,))],
    "health-insurance": [("fetch_coverage", (COMPLETE,))],
    "education": [("fetch_records", (COMPLETE,))],
    "judiciary": [("fetch_notices", (COMPLETE,))],
    "military-service": [("fetch_status", (COMPLETE,))],
    "land-registry": [("fetch_deeds", (COMPLETE,))],
}


@pytest.mark.parametrize("agency", sorted(_OPERATIONS))
async def test_malformed_answers_are_bad_responses(
    agencies: Connectors, sandbox: Sandbox, agency: str
) -> None:
    """Truncated bodies, retyped key fields and dropped key fields (the sandbox rotates through
    the three) are each AGENCY_BAD_RESPONSE, never a mapped value."""
    await sandbox.set_fault(agency, FaultSpec(mode="malformed"))
    connector = agencies.by_id(agency)
    for name, args in _OPERATIONS[agency]:
        for _ in range(3):
            with pytest.raises(AgencyBadResponse):
                await getattr(connector, name)(*args)


# -- people the agencies do not know --------------------------------------------------------------


async def test_unknown_person_is_not_found_where_agencies_answer_404(
    agencies: Connectors,
) -> None:
    a = agencies
    calls: list[Callable[[str], Awaitable[Fetched[Any]]]] = [
        a.civil_registry.fetch_person,
        a.post.fetch_address,
        a.traffic_police.fetch_driving_license,
        a.tax.fetch_tax_record,
        a.social_security.fetch_record,
        a.health_insurance.fetch_coverage,
        a.judiciary.fetch_notices,
        a.military_service.fetch_status,
    ]
    for call in calls:
        with pytest.raises(AgencyNotFound) as info:
            await call(UNKNOWN)
        assert info.value.agency == call.__self__.agency_id  # type: ignore[attr-defined]


async def test_unknown_person_has_empty_lists_where_agencies_say_so(
    agencies: Connectors,
) -> None:
    a = agencies
    calls: list[Callable[[str], Awaitable[Fetched[Any]]]] = [
        a.water.fetch_bills,
        a.electricity.fetch_bills,
        a.gas.fetch_bills,
        a.telecom.fetch_bills,
        a.traffic_police.fetch_vehicles,
        a.traffic_police.fetch_fines,
        a.licensing_portal.fetch_licenses,
        a.education.fetch_records,
    ]
    for call in calls:
        agency = call.__self__.agency_id  # type: ignore[attr-defined]
        assert await _value(call(UNKNOWN), agency) == [], agency


async def test_unknown_person_owns_no_mobile(agencies: Connectors) -> None:
    check = await _value(agencies.shahkar.check_mobile(UNKNOWN, "09121234567"), "shahkar")
    assert check.result in (MobileMatch.MISMATCH, MobileMatch.NOT_REGISTERED)


async def test_not_found_is_remembered_briefly(agencies: Connectors, sandbox: Sandbox) -> None:
    sandbox.reset_calls()
    for _ in range(2):
        with pytest.raises(AgencyNotFound):
            await agencies.tax.fetch_tax_record(UNKNOWN)
    assert sandbox.calls("tax") == 1


async def test_sparse_person(agencies: Connectors) -> None:
    """A known woman almost no agency holds: empty lists, no military record, not covered."""
    a = agencies
    coverage = await _value(a.health_insurance.fetch_coverage(SPARSE), "health-insurance")
    assert coverage == HealthCoverage(covered=False)
    with pytest.raises(AgencyNotFound):
        await a.military_service.fetch_status(SPARSE)
    with pytest.raises(AgencyNotFound):
        await a.traffic_police.fetch_driving_license(SPARSE)
    assert await _value(a.electricity.fetch_bills(SPARSE), "electricity") == []
    assert await _value(a.traffic_police.fetch_fines(SPARSE), "traffic-police") == []
