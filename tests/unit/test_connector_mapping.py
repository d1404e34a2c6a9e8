"""Wire models and wire → domain mappings of every agency connector, on the samples of
docs/agencies.md (no sockets): valid samples map to normalised domain values, malformed ones are
rejected with the errors the pipeline turns into AGENCY_BAD_RESPONSE."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from cache.memory import MemoryCache
from cache.store import CacheStore
from connectors.agencies import (
    education,
    electricity,
    gas,
    health_insurance,
    judiciary,
    licensing_portal,
    military_service,
    post,
    shahkar,
    social_security,
    tax,
    telecom,
    traffic_police,
)
from connectors.agencies.traffic_police import TrafficPoliceConnector
from connectors.pipeline.transport import TransportRequest, TransportResponse
from domain.errors import AgencyBadResponse, AgencyUnavailable
from domain.models import (
    Address,
    BillKind,
    LicenseKind,
    LicenseStatus,
    MilitaryStatus,
    MobileMatch,
)
from observability.metrics import Metrics
from tests.support.scripted_transport import ScriptedTransport, json_response

BILL_ID = "1234567001"
PAYMENT_ID = "12340123"

# -- samples copied from docs/agencies.md ----------------------------------------------------

POST = {
    "postalCode": "۱۴۳۳۶۵۴۳۲۱",
    "province": "تهران",
    "city": "تهران",
    "street": "خیابان آزادی، کوچه ۱۲",
    "plaque": "۱۲",
    "unit": "۳",
    "floor": "۲",
}
SHAHKAR = {"resultCode": 0, "comment": "match"}
ELECTRICITY = {
    "status": "OK",
    "data": {
        "items": [
            {
                "bill_identifier": BILL_ID,
                "payment_identifier": PAYMENT_ID,
                "amount_rial": "2345000",
                "deadline": "1403/07/20",
                "consumption_kwh": 312,
                "meter_no": "9876543",
            }
        ]
    },
}
GAS = {
    "subscriptions": [
        {
            "eshterak": "44556677",
            "lastBill": {
                "shenaseGhabz": BILL_ID,
                "shenasePardakht": PAYMENT_ID,
                "mablagh": 456000,
                "mohlat": "1403/08/01",
            },
        },
        {"eshterak": "44556678", "lastBill": None},
    ]
}
TELECOM = {
    "phones": [
        {
            "phoneNumber": "02144556677",
            "debt": {
                "billId": BILL_ID,
                "paymentId": PAYMENT_ID,
                "amount": 98000,
                "dueDate": "1403/07/25",
            },
        },
        {"phoneNumber": "02144556678", "debt": None},
    ]
}
VEHICLE = {
    "plate": "۱۲ب۳۴۵-۶۷",
    "vin": "NAAM01CA9KR123456",
    "model": "پژو ۲۰۶",
    "year": 1398,
    "color": "سفید",
}
FINE = {
    "fineId": "F140305021234",
    "plate": "۱۲ب۳۴۵-۶۷",
    "billId": BILL_ID,
    "paymentId": PAYMENT_ID,
    "amount": 500000,
    "occurredAt": "1403/05/02 14:30",
    "description": "عبور از چراغ قرمز",
    "location": "تهران، میدان ونک",
}
DRIVING_LICENSE = {
    "licenseNumber": "9812345678",
    "category": "پایه یکم",
    "issuedAt": "1395/02/10",
    "expiresAt": "1405/02/10",
    "status": "VALID",
}
TAX = {
    "taxpayerStatus": "ACTIVE",
    "filings": [{"year": 1402, "status": "FILED"}],
    "debts": [
        {
            "type": "INCOME",
            "year": 1402,
            "billId": BILL_ID,
            "paymentId": PAYMENT_ID,
            "amount": 12500000000,
            "dueDate": "1403/04/31",
        }
    ],
}
LICENSES = {
    "licenses": [
        {
            "licenseNo": "1402-123456",
            "title": "پروانه كسب",
            "issuer": "اتاق اصناف",
            "issueDate": "1402/03/01",
            "expiryDate": "1405/03/01",
            "status": "ACTIVE",
            "holderName": "علي محمدي",
        }
    ]
}
SOCIAL_SECURITY = {
    "insuranceNo": "1234567890",
    "status": "ACTIVE",
    "contributionMonths": 143,
    "employers": [
        {"name": "شرکت نمونه", "workshopCode": "1234567", "from": "1398/01/01", "to": None}
    ],
}
HEALTH = {"covered": True, "plan": "سلامت همگانی", "validUntil": "1404/12/29"}
EDUCATION = {
    "records": [
        {
            "level": "DIPLOMA",
            "field": "ریاضی فیزیک",
            "school": "دبیرستان البرز",
            "graduationYear": 1384,
            "gpa": 17.52,
        }
    ]
}
JUDICIARY = {
    "notices": [
        {
            "noticeId": "140312345678",
            "title": "ابلاغیه جلسه رسیدگی",
            "court": "شعبه ۱۲ دادگاه حقوقی تهران",
            "issuedAt": "1403/06/10",
            "read": False,
        }
    ]
}
MILITARY = {"status": "COMPLETED", "cardNumber": "1234567", "issuedAt": "1390/01/15"}


def _parse(model: type[BaseModel], payload: Any) -> Any:
    """Validate exactly as the pipeline does: from the JSON bytes."""
    return model.model_validate_json(json.dumps(payload, ensure_ascii=False).encode())


def _with(payload: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `payload` with the value at a dotted path (list indexes as digits) replaced,
    or removed when `value` is `_MISSING`."""
    out: Any = copy.deepcopy(payload)
    *parents, last = path.split(".")
    node = out
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is _MISSING:
        del node[last]
    else:
        node[last] = value
    return out


_MISSING = object()


# -- post ---------------------------------------------------------------------------------------


def test_post_maps_persian_digits_to_ascii_and_keeps_street_text() -> None:
    address = post._to_domain(_parse(post.AddressWire, POST))
    assert address == Address(
        postal_code="1433654321",
        province="تهران",
        city="تهران",
        street="خیابان آزادی، کوچه ۱۲",
        plaque="12",
        unit="3",
        floor="2",
    )


def test_post_unit_and_floor_may_be_null() -> None:
    payload = _with(_with(POST, "unit", None), "floor", None)
    address = post._to_domain(_parse(post.AddressWire, payload))
    assert address.unit is None
    assert address.floor is None


@pytest.mark.parametrize(
    ("path", "value"),
    [("postalCode", _MISSING), ("plaque", 12), ("city", None), ("postalCode", 1433654321)],
)
def test_post_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(post.AddressWire, _with(POST, path, value))


@pytest.mark.parametrize("postal_code", ["۱۴۳۳۶۵", "14336-54321", "۱۴۳۳۶۵۴۳۲۱۰"])
def test_post_rejects_a_postal_code_that_is_not_ten_digits(postal_code: str) -> None:
    with pytest.raises(ValueError, match="postal code"):
        post._to_domain(_parse(post.AddressWire, _with(POST, "postalCode", postal_code)))


# -- shahkar ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "result"),
    [(0, MobileMatch.MATCH), (1, MobileMatch.MISMATCH), (2, MobileMatch.NOT_REGISTERED)],
)
def test_shahkar_result_codes(code: int, result: MobileMatch) -> None:
    wire = _parse(shahkar.MatchWire, {"resultCode": code, "comment": "x"})
    check = shahkar._to_domain(wire, "09121234567")
    assert check.mobile == "09121234567"
    assert check.result is result


@pytest.mark.parametrize("payload", [{"resultCode": 5}, {"resultCode": "zero"}, {"comment": "x"}])
def test_shahkar_rejects_unknown_or_missing_result_code(payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _parse(shahkar.MatchWire, payload)


def test_shahkar_internal_error_is_transient_unavailable() -> None:
    connector = _bare(shahkar.ShahkarConnector)
    with pytest.raises(AgencyUnavailable) as info:
        connector._check(_parse(shahkar.MatchWire, {"resultCode": 9, "comment": "err"}))
    assert info.value.transient
    assert info.value.agency == "shahkar"
    connector._check(_parse(shahkar.MatchWire, SHAHKAR))  # an answer passes
    with pytest.raises(ValueError, match="resultCode 9"):
        shahkar._to_domain(_parse(shahkar.MatchWire, {"resultCode": 9}), "09121234567")


# -- bills: electricity, gas, telecom -------------------------------------------------------------


def test_electricity_amount_from_string_and_deadline() -> None:
    (bill,) = electricity._to_domain(_parse(electricity.ElectricityBillsWire, ELECTRICITY))
    assert bill.kind is BillKind.ELECTRICITY
    assert bill.amount_rial == 2_345_000
    assert bill.due_date == dt.date(2024, 10, 11)  # 1403/07/20
    assert bill.subscription == "9876543"
    assert (bill.bill_id, bill.payment_id) == (BILL_ID, PAYMENT_ID)


def test_electricity_no_subscription_is_empty() -> None:
    payload = {"status": "OK", "data": {"items": []}}
    assert electricity._to_domain(_parse(electricity.ElectricityBillsWire, payload)) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("status", "ERROR"),
        ("data.items.0.amount_rial", "2,345,000"),
        ("data.items.0.amount_rial", "-5"),
        ("data.items.0.amount_rial", ""),
        ("data.items.0.deadline", "1403/13/01"),
        ("data.items.0.meter_no", _MISSING),
        ("data", None),
    ],
)
def test_electricity_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(electricity.ElectricityBillsWire, _with(ELECTRICITY, path, value))


def test_gas_skips_subscriptions_with_nothing_owed() -> None:
    (bill,) = gas._to_domain(_parse(gas.GasSubscriptionsWire, GAS))
    assert bill.kind is BillKind.GAS
    assert bill.subscription == "44556677"
    assert bill.amount_rial == 456_000
    assert bill.due_date == dt.date(2024, 10, 22)  # 1403/08/01
    assert (bill.bill_id, bill.payment_id) == (BILL_ID, PAYMENT_ID)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("subscriptions.0.lastBill.mablagh", "many"),
        ("subscriptions.0.lastBill.mohlat", "yesterday"),
        ("subscriptions.0.lastBill", _MISSING),
        ("subscriptions", None),
    ],
)
def test_gas_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(gas.GasSubscriptionsWire, _with(GAS, path, value))


def test_telecom_skips_lines_without_debt() -> None:
    (bill,) = telecom._to_domain(_parse(telecom.TelecomPhonesWire, TELECOM))
    assert bill.kind is BillKind.TELECOM
    assert bill.subscription == "02144556677"
    assert bill.amount_rial == 98_000
    assert bill.due_date == dt.date(2024, 10, 16)  # 1403/07/25


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("phones.0.debt.amount", None),
        ("phones.0.debt.dueDate", 14030725),
        ("phones.0.phoneNumber", _MISSING),
    ],
)
def test_telecom_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(telecom.TelecomPhonesWire, _with(TELECOM, path, value))


# -- traffic police -------------------------------------------------------------------------------


def test_vehicle_plate_digits_become_ascii() -> None:
    vehicle = traffic_police._vehicle_to_domain(_parse(traffic_police.VehicleWire, VEHICLE))
    assert vehicle.plate == "12ب345-67"
    assert vehicle.model == "پژو ۲۰۶"
    assert (vehicle.vin, vehicle.year, vehicle.color) == ("NAAM01CA9KR123456", 1398, "سفید")


def test_fine_maps_to_traffic_fine_bill() -> None:
    bill = traffic_police._fine_to_domain(_parse(traffic_police.FineWire, FINE))
    assert bill.kind is BillKind.TRAFFIC_FINE
    assert bill.subscription == "12ب345-67"
    assert bill.amount_rial == 500_000
    assert bill.occurred_at == dt.datetime(2024, 7, 23, 14, 30)  # 1403/05/02 14:30
    assert bill.description == "عبور از چراغ قرمز"
    assert bill.location == "تهران، میدان ونک"
    assert bill.due_date is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("VALID", LicenseStatus.ACTIVE),
        ("EXPIRED", LicenseStatus.EXPIRED),
        ("SUSPENDED", LicenseStatus.SUSPENDED),
    ],
)
def test_driving_license_statuses(status: str, expected: LicenseStatus) -> None:
    wire = _parse(traffic_police.DrivingLicenseWire, _with(DRIVING_LICENSE, "status", status))
    lic = traffic_police._license_to_domain(wire)
    assert lic.status is expected
    assert lic.kind is LicenseKind.DRIVING
    assert lic.number == "9812345678"
    assert lic.title == "پایه یکم"
    assert lic.issuer == "پلیس راهور"
    assert lic.issued_at == dt.date(2016, 4, 29)  # 1395/02/10
    assert lic.expires_at == dt.date(2026, 4, 30)  # 1405/02/10


@pytest.mark.parametrize(
    ("model", "payload", "path", "value"),
    [
        (traffic_police.DrivingLicenseWire, DRIVING_LICENSE, "status", "REVOKED"),
        (traffic_police.DrivingLicenseWire, DRIVING_LICENSE, "issuedAt", "1395/02/32"),
        (traffic_police.FineWire, FINE, "occurredAt", "1403/05/02 25:30"),
        (traffic_police.FineWire, FINE, "amount", "500000 ریال"),
        (traffic_police.VehicleWire, VEHICLE, "year", "هزار"),
        (traffic_police.VehicleWire, VEHICLE, "vin", _MISSING),
    ],
)
def test_traffic_police_rejects_malformed_payload(
    model: type[BaseModel], payload: dict[str, Any], path: str, value: Any
) -> None:
    with pytest.raises(ValidationError):
        _parse(model, _with(payload, path, value))


def _page(page: int, total_pages: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": items,
        "page": page,
        "pageSize": 50,
        "totalPages": total_pages,
        "totalItems": 50 * max(total_pages - 1, 0) + len(items),
    }


def _traffic_police(pages: dict[int, dict[str, Any]]) -> tuple[Any, ScriptedTransport]:
    """The real connector over a transport that answers each page from `pages` (no sockets)."""

    def answer(request: TransportRequest) -> TransportResponse:
        assert request.params is not None
        return json_response(pages[int(request.params["page"])])

    transport = ScriptedTransport([answer] * len(pages))
    metrics = Metrics()
    connector = TrafficPoliceConnector(
        base_url="http://agency.invalid",
        transport=transport,
        cache=CacheStore(MemoryCache(), key_secret=b"k", metrics=metrics),
        metrics=metrics,
    )
    return connector, transport


def _asked(transport: ScriptedTransport) -> list[dict[str, str]]:
    return [dict(r.params or {}) for r in transport.sent]


def _vehicle(n: int) -> dict[str, Any]:
    return _with(VEHICLE, "vin", f"VIN{n:05d}")


async def test_all_pages_fetches_every_page_in_order() -> None:
    pages = {
        1: _page(1, 3, [_vehicle(i) for i in range(50)]),
        2: _page(2, 3, [_vehicle(i) for i in range(50, 100)]),
        3: _page(3, 3, [_vehicle(100)]),
    }
    connector, transport = _traffic_police(pages)
    vehicles = (await connector.fetch_vehicles("0012345679")).value
    assert [v.vin for v in vehicles] == [f"VIN{i:05d}" for i in range(101)]
    assert _asked(transport)[0] == {"nationalCode": "0012345679", "page": "1", "pageSize": "50"}
    assert sorted(int(a["page"]) for a in _asked(transport)) == [1, 2, 3]


async def test_all_pages_with_no_items_asks_once() -> None:
    connector, transport = _traffic_police({1: _page(1, 0, [])})
    assert (await connector.fetch_fines("0012345679")).value == ()
    assert len(transport.sent) == 1


async def test_all_pages_rejects_absurd_total_pages() -> None:
    connector, transport = _traffic_police({1: _page(1, 101, [_vehicle(0)])})
    with pytest.raises(AgencyBadResponse) as raised:
        await connector.fetch_vehicles("0012345679")
    assert "totalPages" in str(raised.value.__cause__)
    assert len(transport.sent) == 1


async def test_all_pages_rejects_a_page_other_than_the_one_asked() -> None:
    pages = {1: _page(1, 2, [_vehicle(0)]), 2: _page(1, 2, [_vehicle(0)])}
    connector, _ = _traffic_police(pages)
    with pytest.raises(AgencyBadResponse) as raised:
        await connector.fetch_vehicles("0012345679")
    assert "asked for page 2" in str(raised.value.__cause__)
    outcomes = connector.metrics.registry.get_sample_value(
        "panjereh_agency_requests_total", {"agency": "traffic-police", "outcome": "bad_response"}
    )
    assert outcomes == 1  # the page that did not map is the attempt that failed


@pytest.mark.parametrize(
    ("path", "value"),
    [("totalPages", -1), ("items", None), ("page", 0), ("totalItems", _MISSING)],
)
def test_page_rejects_malformed_envelope(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(
            traffic_police.PageWire[traffic_police.VehicleWire],
            _with(_page(1, 1, [VEHICLE]), path, value),
        )


# -- tax ------------------------------------------------------------------------------------------


def test_tax_record_maps_debts_as_bills() -> None:
    record = tax._to_domain(_parse(tax.TaxpayerWire, TAX))
    assert record.status == "ACTIVE"
    assert [(f.year, f.status) for f in record.filings] == [(1402, "FILED")]
    (debt,) = record.debts
    assert debt.kind is BillKind.TAX
    assert debt.amount_rial == 12_500_000_000  # beyond 2^31
    assert debt.subscription == "1402"
    assert debt.description == "INCOME"
    assert debt.due_date == dt.date(2024, 7, 21)  # 1403/04/31


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("taxpayerStatus", "DEAD"),
        ("filings.0.status", "MAYBE"),
        ("debts.0.amount", -1),
        ("debts.0.year", "۱۴۰۲ و ۱۴۰۳"),
        ("debts", _MISSING),
    ],
)
def test_tax_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(tax.TaxpayerWire, _with(TAX, path, value))


# -- licensing portal -----------------------------------------------------------------------------


def test_licensing_portal_folds_arabic_letters() -> None:
    (lic,) = licensing_portal._to_domain(_parse(licensing_portal.LicensesWire, LICENSES))
    assert lic.kind is LicenseKind.BUSINESS
    assert lic.number == "1402-123456"
    assert lic.title == "پروانه کسب"  # Arabic ك → Persian ک
    assert lic.holder_name == "علی محمدی"  # Arabic ي → Persian ی
    assert "\u064a" not in lic.holder_name and "\u0643" not in lic.title
    assert lic.issuer == "اتاق اصناف"
    assert lic.status is LicenseStatus.ACTIVE
    assert lic.issued_at == dt.date(2023, 5, 22)  # 1402/03/01
    assert lic.expires_at == dt.date(2026, 5, 22)  # 1405/03/01


def test_licensing_portal_keeps_zwnj() -> None:
    payload = _with(LICENSES, "licenses.0.title", "مجوز فعالیت\u200cهای اقتصادي")
    (lic,) = licensing_portal._to_domain(_parse(licensing_portal.LicensesWire, payload))
    assert lic.title == "مجوز فعالیت\u200cهای اقتصادی"


@pytest.mark.parametrize("status", ["EXPIRED", "REVOKED"])
def test_licensing_portal_statuses(status: str) -> None:
    payload = _with(LICENSES, "licenses.0.status", status)
    (lic,) = licensing_portal._to_domain(_parse(licensing_portal.LicensesWire, payload))
    assert lic.status == status


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("licenses.0.status", "SUSPENDED"),
        ("licenses.0.issueDate", None),
        ("licenses.0.holderName", 42),
        ("licenses", {}),
    ],
)
def test_licensing_portal_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(licensing_portal.LicensesWire, _with(LICENSES, path, value))


# -- social security ------------------------------------------------------------------------------


def test_social_security_record() -> None:
    record = social_security._to_domain(_parse(social_security.InsuredWire, SOCIAL_SECURITY))
    assert (record.insurance_no, record.status, record.contribution_months) == (
        "1234567890",
        "ACTIVE",
        143,
    )
    (employer,) = record.employers
    assert (employer.name, employer.workshop_code) == ("شرکت نمونه", "1234567")
    assert employer.start == dt.date(2019, 3, 21)  # 1398/01/01
    assert employer.end is None


def test_social_security_past_employment() -> None:
    payload = _with(SOCIAL_SECURITY, "employers.0.to", "1401/06/31")
    record = social_security._to_domain(_parse(social_security.InsuredWire, payload))
    assert record.employers[0].end == dt.date(2022, 9, 22)  # 1401/06/31


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("status", "DECEASED"),
        ("contributionMonths", -3),
        ("employers.0.from", None),
        ("employers.0.to", _MISSING),
        ("employers.0.workshopCode", 1234567),
    ],
)
def test_social_security_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(social_security.InsuredWire, _with(SOCIAL_SECURITY, path, value))


# -- health insurance -----------------------------------------------------------------------------


def test_health_coverage() -> None:
    coverage = health_insurance._to_domain(_parse(health_insurance.CoverageWire, HEALTH))
    assert coverage.covered
    assert coverage.plan == "سلامت همگانی"
    assert coverage.valid_until == dt.date(2026, 3, 20)  # 1404/12/29


def test_health_not_covered() -> None:
    payload = {"covered": False, "plan": None, "validUntil": None}
    coverage = health_insurance._to_domain(_parse(health_insurance.CoverageWire, payload))
    assert not coverage.covered
    assert coverage.plan is None and coverage.valid_until is None


def test_health_rejects_plan_without_coverage() -> None:
    wire = _parse(health_insurance.CoverageWire, _with(HEALTH, "covered", False))
    with pytest.raises(ValueError, match="not covered"):
        health_insurance._to_domain(wire)


@pytest.mark.parametrize(
    ("path", "value"), [("covered", "maybe"), ("validUntil", "1404/12/31"), ("plan", _MISSING)]
)
def test_health_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(health_insurance.CoverageWire, _with(HEALTH, path, value))


# -- education ------------------------------------------------------------------------------------


def test_education_records() -> None:
    (record,) = education._to_domain(_parse(education.DiplomasWire, EDUCATION))
    assert (record.level, record.field, record.school) == (
        "DIPLOMA",
        "ریاضی فیزیک",
        "دبیرستان البرز",
    )
    assert record.graduation_year == 1384
    assert record.gpa == pytest.approx(17.52)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("records.0.level", "PHD"),
        ("records.0.gpa", 21),
        ("records.0.graduationYear", None),
        ("records", _MISSING),
    ],
)
def test_education_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(education.DiplomasWire, _with(EDUCATION, path, value))


# -- judiciary ------------------------------------------------------------------------------------


def test_judiciary_notices() -> None:
    (notice,) = judiciary._to_domain(_parse(judiciary.NoticesWire, JUDICIARY))
    assert notice.notice_id == "140312345678"
    assert notice.title == "ابلاغیه جلسه رسیدگی"
    assert notice.court == "شعبه ۱۲ دادگاه حقوقی تهران"
    assert notice.issued_at == dt.date(2024, 8, 31)  # 1403/06/10
    assert notice.read is False


@pytest.mark.parametrize(
    ("path", "value"),
    [("notices.0.read", "maybe"), ("notices.0.issuedAt", ""), ("notices.0.court", _MISSING)],
)
def test_judiciary_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(judiciary.NoticesWire, _with(JUDICIARY, path, value))


# -- military service -----------------------------------------------------------------------------


def test_military_service_status() -> None:
    record = military_service._to_domain(_parse(military_service.MilitaryStatusWire, MILITARY))
    assert record.status is MilitaryStatus.COMPLETED
    assert record.card_number == "1234567"
    assert record.issued_at == dt.date(2011, 4, 4)  # 1390/01/15


@pytest.mark.parametrize("status", [s.value for s in MilitaryStatus])
def test_military_service_every_status(status: str) -> None:
    payload = {"status": status, "cardNumber": None, "issuedAt": None}
    record = military_service._to_domain(_parse(military_service.MilitaryStatusWire, payload))
    assert record.status == status
    assert record.card_number is None and record.issued_at is None


@pytest.mark.parametrize(
    ("path", "value"), [("status", "DESERTED"), ("issuedAt", "1390-13-15"), ("cardNumber", 12)]
)
def test_military_service_rejects_malformed_payload(path: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        _parse(military_service.MilitaryStatusWire, _with(MILITARY, path, value))


# -- every connector ------------------------------------------------------------------------------


def _bare(cls: type[Any]) -> Any:
    """A connector instance for calling pure helpers: no session, cache or metrics are used."""
    return cls(base_url="http://agency.invalid", transport=None, cache=None, metrics=None)


def test_connectors_declare_id_names_and_sane_policy() -> None:
    from connectors.registry import CONNECTOR_CLASSES

    for agency_id, cls in CONNECTOR_CLASSES.items():
        assert cls.agency_id == agency_id
        assert cls.name_fa and not cls.name_fa.isascii()
        assert cls.name_en and cls.name_en.isascii()
        assert cls.__doc__, f"{cls.__name__} explains its TTLs"
        assert 0 < cls.policy.timeout <= 5
        assert 0 < cls.policy.fresh_ttl <= cls.policy.stale_ttl
