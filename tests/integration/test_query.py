"""The whole query path over real HTTP: gateway → connectors → sandbox agencies."""

from __future__ import annotations

import time

from domain.digits import to_ascii_digits
from sandbox import PERSONAS, person_for
from tests.integration.queries import BILLS, ME, PROFILE
from tests.support.gateway import RunningGateway, running_gateway

COMPLETE = PERSONAS["complete"]
AGENCIES = {
    "civil-registry", "post", "shahkar", "water", "electricity", "gas", "telecom",
    "traffic-police", "tax", "licensing-portal", "social-security", "health-insurance",
    "education", "judiciary", "military-service", "land-registry",
}  # fmt: skip


def _sources(node: object) -> set[str]:
    """Every `source.agency` anywhere in a response."""
    found: set[str] = set()
    if isinstance(node, dict):
        source = node.get("source")
        if isinstance(source, dict) and "agency" in source:
            found.add(source["agency"])
        for value in node.values():
            found |= _sources(value)
    elif isinstance(node, list):
        for value in node:
            found |= _sources(value)
    return found


async def test_me_answers_from_all_sixteen_agencies(gateway: RunningGateway) -> None:
    person = person_for(COMPLETE)
    status, body = await gateway.query(
        ME, token=gateway.token(COMPLETE), variables={"mobile": "+98 912 123 4567"}
    )
    assert status == 200
    assert "errors" not in body, body.get("errors")
    me = body["data"]["me"]
    assert _sources(me) == AGENCIES

    profile = me["profile"]
    assert (profile["firstName"], profile["lastName"]) == (person.first_name, person.last_name)
    assert profile["birthDate"]["jalali"] == "1365/04/12"
    assert profile["birthDate"]["iso"] == "1986-07-03"
    assert profile["source"]["stale"] is False
    assert me["address"]["postalCode"].isascii() and len(me["address"]["postalCode"]) == 10
    assert me["mobileCheck"] == {**me["mobileCheck"], "matches": True, "result": "MATCH"}

    bills = me["bills"]
    assert bills["complete"] is True
    assert {s["agency"] for s in bills["sources"]} == {
        "water", "electricity", "gas", "telecom", "traffic-police", "tax",
    }  # fmt: skip
    assert {s["state"] for s in bills["sources"]} == {"OK"}
    kinds = {item["kind"] for item in bills["items"]}
    assert kinds == {"WATER", "ELECTRICITY", "GAS", "TELECOM", "TRAFFIC_FINE", "TAX"}
    fines = [i for i in bills["items"] if i["kind"] == "TRAFFIC_FINE"]
    assert len(fines) == len(person.fines) > 10  # more than one page at the agency
    amounts = [int(i["amount"]) for i in bills["items"]]
    assert all(isinstance(i["amount"], str) for i in bills["items"])
    assert max(amounts) > 2**31  # a tax debt beyond GraphQL Int
    unpaid = sum(int(i["amount"]) for i in bills["items"] if not i["paid"])
    assert int(bills["totalAmount"]) == unpaid

    licenses = me["licenses"]
    assert {i["kind"] for i in licenses["items"]} == {"BUSINESS", "DRIVING"}
    business = [i for i in licenses["items"] if i["kind"] == "BUSINESS"]
    for item in business:
        for text in (item["title"], item["holderName"]):
            assert "ي" not in text and "ك" not in text  # Arabic letters folded to Persian

    records = me["records"]
    assert len(records["vehicles"]["items"]) == len(person.vehicles)
    assert len(records["education"]["items"]) == len(person.education)
    assert records["socialSecurity"]["contributionMonths"] > 0
    assert records["healthInsurance"]["covered"] is True
    assert records["judicialNotices"]["unreadCount"] >= 1
    assert records["militaryService"]["status"] == "COMPLETED"
    assert records["tax"]["status"] in {"ACTIVE", "INACTIVE"}

    deeds = records["deeds"]["items"]
    assert [d["deedNumber"] for d in deeds] == [d.deed_no for d in person.deeds]
    assert len(deeds) == 7  # two pages at the registry, walked by its cursor
    first, held = deeds[0], person.deeds[0]
    assert first["issuedAt"]["jalali"] == f"{held.issued_at:%Y/%m/%d}"
    assert first["unit"] == held.plaque == to_ascii_digits(first["unit"])
    assert first["address"] == held.address  # Persian digits on the registry's wire, ASCII here
    for deed, held in zip(deeds, person.deeds, strict=True):
        share = deed["share"]
        assert share["numerator"] / share["denominator"] == held.dang / 6
        assert share["dang"] == float(held.dang)


async def test_agencies_are_called_concurrently() -> None:
    """With every agency taking 150 ms, the whole query costs about one agency, not sixteen."""
    async with running_gateway(sandbox_latency_ms=(150, 150)) as gw:
        started = time.perf_counter()
        status, body = await gw.query(
            ME, token=gw.token(COMPLETE), variables={"mobile": "09121234567"}
        )
        elapsed = time.perf_counter() - started
    assert status == 200 and "errors" not in body
    # Sequential calls would take >= 16 x 0.15 s (plus traffic-police and land-registry pages,
    # the registry's one after another); allow generous noise.
    assert elapsed < 1.5, f"fan-out took {elapsed:.2f} s"


async def test_a_repeated_query_is_answered_from_cache(gateway: RunningGateway) -> None:
    token = gateway.token(COMPLETE)
    status, first = await gateway.query(PROFILE, token=token)
    assert status == 200 and "errors" not in first
    calls = gateway.sandbox.calls("civil-registry")
    assert calls == 1
    status, second = await gateway.query(PROFILE, token=token)
    assert gateway.sandbox.calls("civil-registry") == calls
    assert (
        second["data"]["me"]["profile"]["firstName"] == first["data"]["me"]["profile"]["firstName"]
    )
    assert (
        second["data"]["me"]["profile"]["source"]["fetchedAt"]
        == (first["data"]["me"]["profile"]["source"]["fetchedAt"])
    )


async def test_one_query_asks_each_agency_once(gateway: RunningGateway) -> None:
    query = """{ me {
        a: profile { firstName } b: profile { lastName }
        bills { totalAmount } again: bills { totalAmount }
        records { tax { status } }
    } }"""
    status, body = await gateway.query(query, token=gateway.token(COMPLETE))
    assert status == 200 and "errors" not in body
    assert gateway.sandbox.calls("civil-registry") == 1
    assert gateway.sandbox.calls("tax") == 1  # debts for bills and status for records share it
    assert gateway.sandbox.calls("water") == 1


async def test_sparse_citizen_gets_empty_lists_and_nulls_without_errors(
    gateway: RunningGateway,
) -> None:
    code = PERSONAS["sparse"]
    query = """{ me { profile { firstName } bills { items { kind } complete sources { state } }
        records { socialSecurity { status } militaryService { status } }
        sources { agency state } } }"""
    status, body = await gateway.query(query, token=gateway.token(code))
    assert status == 200
    assert "errors" not in body  # "no record" is a state, not an error
    me = body["data"]["me"]
    assert me["profile"]["firstName"] == person_for(code).first_name
    assert me["bills"]["complete"] is True
    assert me["records"]["socialSecurity"] is None
    assert me["records"]["militaryService"] is None
    states = {s["agency"]: s["state"] for s in me["sources"]}
    assert states["social-security"] == states["military-service"] == "EMPTY"
    assert states["civil-registry"] == "OK"


async def test_unknown_citizen_profile_is_null_and_its_source_empty(
    gateway: RunningGateway,
) -> None:
    query = "{ me { profile { firstName } sources { agency nameFa state error { code } } } }"
    status, body = await gateway.query(query, token=gateway.token(PERSONAS["unknown"]))
    assert status == 200
    assert "errors" not in body
    assert body["data"]["me"] == {
        "profile": None,
        "sources": [
            {"agency": "civil-registry", "nameFa": "ثبت احوال", "state": "EMPTY", "error": None}
        ],
    }


async def test_bills_query_for_complete_citizen(gateway: RunningGateway) -> None:
    status, body = await gateway.query(BILLS, token=gateway.token(COMPLETE))
    assert status == 200 and "errors" not in body
    assert len(body["data"]["me"]["bills"]["items"]) > 0
