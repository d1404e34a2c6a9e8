"""The sandbox agencies answer as docs/agencies.md says, over real HTTP on loopback.

Check digits are verified here from DESIGN §5, independently of sandbox/ids.py, so the
sandbox's generator is not used to check itself.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from defusedxml.ElementTree import fromstring

from sandbox import AGENCY_IDS, PERSONAS, Sandbox, person_for, sample_national_codes
from sandbox.ids import make_bill_id
from sandbox.synth.identity import random_postal_code

COMPLETE, SPARSE, UNKNOWN = PERSONAS["complete"], PERSONAS["sparse"], PERSONAS["unknown"]
SAB = "{urn:sabtahval:inquiry}"
SOAP_ACTION = '"urn:sabtahval:inquiry/GetPersonInfo"'
JALALI_DATE = re.compile(r"^1[34]\d\d/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])$")
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"


# --- DESIGN §5, written from the spec --------------------------------------------------------


def national_code_ok(code: str) -> bool:
    if not re.fullmatch(r"[0-9]{10}", code) or len(set(code)) == 1:
        return False
    total = sum(int(code[i]) * (10 - i) for i in range(9))
    r = total % 11
    return int(code[9]) == (r if r < 2 else 11 - r)


POSTAL_RULE = re.compile(r"(?!(\d)\1{3})[13-9]{4}[1346-9][013-9]{5}")  # the Post Company's


def mod11(digits: str) -> int:
    weights = itertools.cycle([2, 3, 4, 5, 6, 7])
    total = sum(int(d) * w for d, w in zip(reversed(digits), weights, strict=False))
    r = total % 11
    return 0 if r < 2 else 11 - r


def assert_payable(bill_id: str, payment_id: str, amount: int, services: set[int]) -> None:
    """Bill ID and payment ID are valid, of the right service, and code `amount`."""
    assert re.fullmatch(r"[0-9]{6,13}", bill_id), bill_id
    assert int(bill_id[-1]) == mod11(bill_id[:-1]), bill_id
    assert int(bill_id[-2]) in services, bill_id
    assert re.fullmatch(r"[1-9][0-9]{5,}", payment_id), payment_id
    assert int(payment_id[-2]) == mod11(payment_id[:-2]), payment_id
    assert int(payment_id[-1]) == mod11(bill_id + payment_id[:-1]), payment_id
    assert int(payment_id[:-5]) * 1000 == amount, (payment_id, amount)


def test_check_digit_oracle_matches_known_values() -> None:
    assert national_code_ok("0012345679")
    assert not national_code_ok("0012345678")
    assert not national_code_ok("1111111111")
    # weights from the right 2,3,4,5,6,7,2,...: 2+3+0+0+42+42+10+12+12+10+6 = 139, 139 % 11 = 7
    assert mod11("12345670011") == 11 - 7


@pytest.mark.parametrize("service", [0, 7])
def test_the_generator_never_issues_an_unassigned_service_digit(service: int) -> None:
    with pytest.raises(ValueError, match="assigned to no service"):
        make_bill_id("12345", "678", service)


@pytest.mark.parametrize("service", [1, 2, 3, 4, 5, 6, 8, 9])
def test_the_generator_issues_every_assigned_service_digit(service: int) -> None:
    bill_id = make_bill_id("12345", "678", service)
    assert int(bill_id[-2]) == service and int(bill_id[-1]) == mod11(bill_id[:-1])


def test_generated_postal_codes_keep_the_rule() -> None:
    codes = [random_postal_code(random.Random(seed)) for seed in range(3000)]
    assert all(POSTAL_RULE.fullmatch(code) for code in codes)
    assert len(set(codes)) > 2900


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=3) as sb:
        yield sb


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


JSON_PATHS = {
    "post": "/v2/residents/{nc}/address",
    "water": "/api/customers/{nc}/bills",
    "electricity": "/bargh/v1/bills?national_id={nc}",
    "gas": "/gas/subscriptions/{nc}",
    "telecom": "/tci/api/phones?nationalCode={nc}",
    "traffic-police": "/rahvar/api/v1/fines?nationalCode={nc}",
    "tax": "/tax/v1/taxpayers/{nc}/debts",
    "licensing-portal": "/api/v1/licenses?nationalCode={nc}",
    "social-security": "/tamin/api/insured/{nc}",
    "health-insurance": "/salamat/coverage?nationalCode={nc}",
    "education": "/medu/api/students/{nc}/diplomas",
    "judiciary": "/sana/api/notices?nationalCode={nc}",
    "military-service": "/nezam/api/status/{nc}",
}


async def get(
    http: aiohttp.ClientSession, sandbox: Sandbox, agency: str, path: str
) -> tuple[int, Any]:
    async with http.get(sandbox.urls[agency] + path) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def agency_json(
    http: aiohttp.ClientSession, sandbox: Sandbox, agency: str, nc: str
) -> tuple[int, Any]:
    return await get(http, sandbox, agency, JSON_PATHS[agency].format(nc=nc))


async def civil_registry(http: aiohttp.ClientSession, sandbox: Sandbox, nc: str) -> Any:
    envelope = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sab="urn:sabtahval:inquiry"><soap:Body><sab:GetPersonInfo>'
        f"<sab:NationalCode>{nc}</sab:NationalCode></sab:GetPersonInfo></soap:Body></soap:Envelope>"
    )
    headers = {"SOAPAction": SOAP_ACTION, "Content-Type": "text/xml; charset=utf-8"}
    url = sandbox.urls["civil-registry"] + "/services/IdentityInquiry"
    async with http.post(url, data=envelope.encode(), headers=headers) as response:
        return response.status, fromstring(await response.read())


# --- identity ---------------------------------------------------------------------------------


async def test_civil_registry_complete(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    status, root = await civil_registry(http, sandbox, COMPLETE)
    assert status == 200
    result = root.find(f".//{SAB}GetPersonInfoResponse/{SAB}Result")
    assert result.findtext(f"{SAB}ResultCode") == "0"
    person = result.find(f"{SAB}Person")
    expected = person_for(COMPLETE)
    assert person.findtext(f"{SAB}NationalCode") == COMPLETE
    assert person.findtext(f"{SAB}FirstName") == expected.first_name == "علی"
    assert person.findtext(f"{SAB}LastName") == expected.last_name
    assert person.findtext(f"{SAB}FatherName") == expected.father_name
    assert person.findtext(f"{SAB}BirthDate") == "13650412"
    assert person.findtext(f"{SAB}BirthPlace") == expected.birth_place
    assert person.findtext(f"{SAB}Gender") == "1"
    assert person.findtext(f"{SAB}IsAlive") == "true"
    assert person.find(f"{SAB}DeathDate") is not None
    assert not person.findtext(f"{SAB}DeathDate")


async def test_civil_registry_unknown_deceased_and_invalid(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    status, root = await civil_registry(http, sandbox, UNKNOWN)
    assert status == 200
    assert root.findtext(f".//{SAB}ResultCode") == "1"
    assert root.find(f".//{SAB}Person") is None

    status, root = await civil_registry(http, sandbox, PERSONAS["deceased"])
    assert root.findtext(f".//{SAB}IsAlive") == "false"
    assert re.fullmatch(r"1[34]\d{6}", root.findtext(f".//{SAB}DeathDate"))

    status, root = await civil_registry(http, sandbox, "0012345678")
    assert status == 500
    fault = root.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    assert fault.findtext("faultcode") == "soap:Client"
    assert "national code" in fault.findtext("faultstring")

    url = sandbox.urls["civil-registry"] + "/services/IdentityInquiry"
    async with http.post(url, data=b"<not-soap/>", headers={"SOAPAction": SOAP_ACTION}) as response:
        assert response.status == 500
        assert b"soap:Client" in await response.read()


async def test_shahkar(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    url = sandbox.urls["shahkar"] + "/shahkar/v1/match"
    mobile = person_for(COMPLETE).mobile
    assert mobile is not None and re.fullmatch(r"09[0-9]{9}", mobile)

    async def match(body: Any) -> tuple[int, Any]:
        async with http.post(url, json=body) as response:
            return response.status, await response.json()

    assert await match({"nationalCode": COMPLETE, "mobile": mobile}) == (
        200,
        {"resultCode": 0, "comment": "match"},
    )
    codes = set()
    for other in ("09120000001", "09350000002", "09190000003", "09010000004", "09360000005"):
        status, body = await match({"nationalCode": COMPLETE, "mobile": other})
        assert status == 200 and body["resultCode"] in {1, 2}
        assert (await match({"nationalCode": COMPLETE, "mobile": other}))[1] == body
        codes.add(body["resultCode"])
    status, body = await match({"nationalCode": UNKNOWN, "mobile": mobile})
    assert body["resultCode"] != 0
    assert (await match({"nationalCode": COMPLETE}))[0] == 400
    assert (await match({"nationalCode": "123", "mobile": mobile})) == (
        400,
        {"error": "invalid national code"},
    )
    async with http.post(url, data=b"{broken") as response:
        assert response.status == 400


async def test_post_persian_digits(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    status, body = await agency_json(http, sandbox, "post", COMPLETE)
    assert status == 200
    assert set(body) == {"postalCode", "province", "city", "street", "plaque", "unit", "floor"}
    assert re.fullmatch(f"[{PERSIAN_DIGITS}]{{10}}", body["postalCode"])
    for value in body.values():
        assert value is None or not re.search(r"[0-9]", value)
    address = person_for(COMPLETE).address
    assert body["postalCode"].translate(str.maketrans(PERSIAN_DIGITS, "0123456789")) == (
        address.postal_code
    )
    assert POSTAL_RULE.fullmatch(address.postal_code)
    assert body["city"] == address.city
    assert await agency_json(http, sandbox, "post", UNKNOWN) == (
        404,
        {"error": "resident_not_found"},
    )


# --- utilities --------------------------------------------------------------------------------


async def test_water(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    status, body = await agency_json(http, sandbox, "water", COMPLETE)
    assert status == 200
    assert body["customerName"] == person_for(COMPLETE).full_name
    assert any(not bill["paid"] for bill in body["bills"])
    for bill in body["bills"]:
        assert_payable(bill["billId"], bill["paymentId"], bill["amount"], {1})
        assert JALALI_DATE.match(bill["dueDate"])
        year, month = bill["period"].split("-")
        assert bill["paymentId"][-5:-2] == f"{year[-1]}{month}"
        assert isinstance(bill["subscriptionNo"], str) and isinstance(bill["paid"], bool)
    for nc in (SPARSE, UNKNOWN):
        assert (await agency_json(http, sandbox, "water", nc))[1]["bills"] == []


async def test_electricity(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    status, body = await agency_json(http, sandbox, "electricity", COMPLETE)
    assert status == 200 and body["status"] == "OK"
    items = body["data"]["items"]
    assert items
    for item in items:
        assert isinstance(item["amount_rial"], str)
        assert_payable(
            item["bill_identifier"], item["payment_identifier"], int(item["amount_rial"]), {2}
        )
        assert JALALI_DATE.match(item["deadline"])
        assert isinstance(item["consumption_kwh"], int) and isinstance(item["meter_no"], str)
    assert (await agency_json(http, sandbox, "electricity", SPARSE))[1]["data"]["items"] == []


async def test_gas_and_telecom(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    _, gas = await agency_json(http, sandbox, "gas", COMPLETE)
    owed = [sub["lastBill"] for sub in gas["subscriptions"] if sub["lastBill"] is not None]
    assert owed
    for bill in owed:
        assert_payable(bill["shenaseGhabz"], bill["shenasePardakht"], bill["mablagh"], {3})
        assert JALALI_DATE.match(bill["mohlat"])
    _, telecom = await agency_json(http, sandbox, "telecom", COMPLETE)
    debts = [phone["debt"] for phone in telecom["phones"] if phone["debt"] is not None]
    assert debts
    for phone in telecom["phones"]:
        assert re.fullmatch(r"0[1-9][0-9]{9}", phone["phoneNumber"])
    for debt in debts:
        assert_payable(debt["billId"], debt["paymentId"], debt["amount"], {4})
    assert (await agency_json(http, sandbox, "gas", SPARSE))[1] == {"subscriptions": []}
    assert (await agency_json(http, sandbox, "telecom", SPARSE))[1] == {"phones": []}


# --- traffic police ---------------------------------------------------------------------------


async def test_traffic_fines_paginate(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    base = f"/rahvar/api/v1/fines?nationalCode={COMPLETE}"
    _, first = await get(http, sandbox, "traffic-police", base)
    assert first["page"] == 1 and first["pageSize"] == 10 and len(first["items"]) == 10
    assert first["totalItems"] >= 11
    assert first["totalPages"] == math.ceil(first["totalItems"] / 10) >= 2
    seen = list(first["items"])
    for page in range(2, first["totalPages"] + 1):
        _, body = await get(http, sandbox, "traffic-police", f"{base}&page={page}&pageSize=10")
        assert body["page"] == page
        seen += body["items"]
    assert len(seen) == first["totalItems"] == len({fine["fineId"] for fine in seen})
    _, everything = await get(http, sandbox, "traffic-police", f"{base}&pageSize=50")
    assert everything["items"] == seen and everything["totalPages"] == 1
    _, beyond = await get(http, sandbox, "traffic-police", f"{base}&page=99")
    assert beyond["items"] == [] and beyond["totalItems"] == first["totalItems"]
    assert (await get(http, sandbox, "traffic-police", f"{base}&pageSize=51"))[0] == 400
    assert (await get(http, sandbox, "traffic-police", f"{base}&page=0"))[0] == 400

    _, vehicles = await get(
        http, sandbox, "traffic-police", f"/rahvar/api/v1/vehicles?nationalCode={COMPLETE}"
    )
    plates = {car["plate"] for car in vehicles["items"]}
    assert plates and vehicles["totalItems"] == len(vehicles["items"])
    for car in vehicles["items"]:
        assert set(car) == {"plate", "vin", "model", "year", "color"} and len(car["vin"]) == 17
    for fine in seen:
        assert fine["plate"] in plates
        assert_payable(fine["billId"], fine["paymentId"], fine["amount"], {9})
        assert re.fullmatch(r"1[34]\d\d/\d\d/\d\d \d\d:\d\d", fine["occurredAt"])
        assert fine["description"] and fine["location"]


async def test_traffic_empty_lists_and_license(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    for kind in ("fines", "vehicles"):
        _, body = await get(
            http, sandbox, "traffic-police", f"/rahvar/api/v1/{kind}?nationalCode={SPARSE}"
        )
        assert body == {"items": [], "page": 1, "pageSize": 10, "totalPages": 0, "totalItems": 0}
    path = "/rahvar/api/v1/driving-license?nationalCode={nc}"
    status, held = await get(http, sandbox, "traffic-police", path.format(nc=COMPLETE))
    assert status == 200 and held["status"] in {"VALID", "EXPIRED", "SUSPENDED"}
    assert JALALI_DATE.match(held["issuedAt"]) and JALALI_DATE.match(held["expiresAt"])
    assert await get(http, sandbox, "traffic-police", path.format(nc=SPARSE)) == (
        404,
        {"message": "no license"},
    )


# --- the rest ---------------------------------------------------------------------------------


async def test_tax(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    status, body = await agency_json(http, sandbox, "tax", COMPLETE)
    assert status == 200 and body["taxpayerStatus"] in {"ACTIVE", "INACTIVE"}
    assert all(f["status"] in {"FILED", "NOT_FILED", "LATE"} for f in body["filings"])
    assert any(debt["amount"] > 2**31 for debt in body["debts"])
    for debt in body["debts"]:
        assert_payable(debt["billId"], debt["paymentId"], debt["amount"], {8})
        assert isinstance(debt["year"], int) and JALALI_DATE.match(debt["dueDate"])
    assert await agency_json(http, sandbox, "tax", UNKNOWN) == (
        404,
        {"error": "taxpayer not found"},
    )


async def test_licensing_portal_arabic_letters(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    _, body = await agency_json(http, sandbox, "licensing-portal", COMPLETE)
    assert body["licenses"]
    for item in body["licenses"]:
        assert re.search("[يك]", item["title"]) and re.search("[يك]", item["holderName"])
        assert not re.search("[یک]", item["title"] + item["holderName"] + item["issuer"])
        assert item["status"] in {"ACTIVE", "EXPIRED", "REVOKED"}
        assert re.fullmatch(r"1[34]\d\d-\d{6}", item["licenseNo"])
    expected = person_for(COMPLETE).full_name
    assert body["licenses"][0]["holderName"].replace("ي", "ی").replace("ك", "ک") == expected
    assert (await agency_json(http, sandbox, "licensing-portal", SPARSE))[1] == {"licenses": []}


async def test_welfare_agencies(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    status, insured = await agency_json(http, sandbox, "social-security", COMPLETE)
    assert status == 200 and insured["status"] in {"ACTIVE", "INACTIVE", "RETIRED"}
    assert insured["contributionMonths"] > 0 and insured["employers"]
    assert {"name", "workshopCode", "from", "to"} == set(insured["employers"][0])
    assert await agency_json(http, sandbox, "social-security", SPARSE) == (
        404,
        {"error": "not insured"},
    )
    _, covered = await agency_json(http, sandbox, "health-insurance", COMPLETE)
    assert (
        covered["covered"] is True and covered["plan"] and JALALI_DATE.match(covered["validUntil"])
    )
    assert await agency_json(http, sandbox, "health-insurance", SPARSE) == (
        200,
        {"covered": False, "plan": None, "validUntil": None},
    )
    assert (await agency_json(http, sandbox, "health-insurance", UNKNOWN))[0] == 404


async def test_education_judiciary_military(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    _, education = await agency_json(http, sandbox, "education", COMPLETE)
    assert education["records"]
    for record in education["records"]:
        assert record["level"] in {"PRIMARY", "MIDDLE", "DIPLOMA", "PRE_UNIVERSITY"}
        assert isinstance(record["graduationYear"], int) and 0 <= record["gpa"] <= 20
    assert (await agency_json(http, sandbox, "education", UNKNOWN))[1] == {"records": []}

    _, sana = await agency_json(http, sandbox, "judiciary", COMPLETE)
    assert sana["notices"] and isinstance(sana["notices"][0]["read"], bool)
    assert re.fullmatch(r"\d{12}", sana["notices"][0]["noticeId"])
    assert await agency_json(http, sandbox, "judiciary", SPARSE) == (
        404,
        {"error": "not registered in sana"},
    )
    _, service = await agency_json(http, sandbox, "military-service", COMPLETE)
    assert service["status"] == "COMPLETED" and service["cardNumber"] and service["issuedAt"]
    for nc in (SPARSE, UNKNOWN):
        assert await agency_json(http, sandbox, "military-service", nc) == (
            404,
            {"error": "not applicable"},
        )


@pytest.mark.parametrize("agency", sorted(JSON_PATHS))
async def test_invalid_national_code_is_400(
    sandbox: Sandbox, http: aiohttp.ClientSession, agency: str
) -> None:
    for bad in ("0012345678", "12345", "۰۰۱۲۳۴۵۶۷۹"):
        assert await agency_json(http, sandbox, agency, bad) == (
            400,
            {"error": "invalid national code"},
        )


async def test_unknown_persona_is_unknown_everywhere(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """Agencies whose section says "empty list" answer one; every other one answers 404."""
    lists = {
        "water": lambda body: body["bills"],
        "electricity": lambda body: body["data"]["items"],
        "gas": lambda body: body["subscriptions"],
        "telecom": lambda body: body["phones"],
        "traffic-police": lambda body: body["items"],
        "licensing-portal": lambda body: body["licenses"],
        "education": lambda body: body["records"],
    }
    for agency in JSON_PATHS:
        status, body = await agency_json(http, sandbox, agency, UNKNOWN)
        if agency in lists:
            assert status == 200 and lists[agency](body) == [], agency
        else:
            assert status == 404 and set(body) <= {"error", "message"}, agency


async def test_every_postal_code_keeps_the_post_companys_rule(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    seen = 0
    for code in [*PERSONAS.values(), *sample_national_codes(60)]:
        status, body = await agency_json(http, sandbox, "post", code)
        if status == 200:
            postal = body["postalCode"].translate(str.maketrans(PERSIAN_DIGITS, "0123456789"))
            assert POSTAL_RULE.fullmatch(postal), postal
            seen += 1
    assert seen >= 40


async def test_same_person_everywhere(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    codes = sample_national_codes(30)
    assert codes == sample_national_codes(30) and len(set(codes)) == 30
    assert all(national_code_ok(code) for code in codes)
    known = [code for code in codes if person_for(code).known_to_registry][:6]
    for code in known:
        person = person_for(code)
        _, root = await civil_registry(http, sandbox, code)
        name = f"{root.findtext(f'.//{SAB}FirstName')} {root.findtext(f'.//{SAB}LastName')}"
        assert name == person.full_name
        _, licenses = await agency_json(http, sandbox, "licensing-portal", code)
        for item in licenses["licenses"]:
            assert item["holderName"].replace("ي", "ی").replace("ك", "ک") == person.full_name
        if person.gender == "female":
            assert (await agency_json(http, sandbox, "military-service", code))[0] == 404
    assert len(AGENCY_IDS) == 16
