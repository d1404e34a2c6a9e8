"""Absence is a state, not an error; every error says itself in Persian — over real HTTP.

A citizen an agency holds nothing about gets null (a record) or an empty list (with its source)
and no error, and `Citizen.sources` says EMPTY for that agency; an agency that fails is
UNAVAILABLE there and in `errors` (with `messageFa`); a stale copy is STALE with its age. The
`sources` list names exactly the agencies the query's fields asked. Sparse persona 0023456787
(docs/agencies.md) has gaps almost everywhere.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

from domain.identifiers import national_code_check_digit
from sandbox import PERSONAS, FaultSpec
from server import METRICS
from tests.integration.queries import ME
from tests.integration.queries import SOURCES as LIST_SOURCES
from tests.support.faults import DEADLINE, FAULTS
from tests.support.gateway import RunningGateway, running_gateway

COMPLETE, SPARSE, UNKNOWN = PERSONAS["complete"], PERSONAS["sparse"], PERSONAS["unknown"]
PERSIAN = re.compile(r"^[\u0600-\u06FF\u200c ()؛:/]+$")
"""Arabic-script letters, Persian digits, ZWNJ and the templates' punctuation: no Latin letter,
no ASCII digit."""

SOURCES = "sources { agency nameFa nameEn state fetchedAt ageSeconds error { code messageFa } }"
RECORDS = f"""{{ me {{
  records {{
    judicialNotices {{ unreadCount items {{ title }} source {{ agency nameFa ageSeconds }} }}
    socialSecurity {{ status }}
    militaryService {{ status }}
    tax {{ status }}
  }}
  {SOURCES}
}} }}"""
FULL = ME.replace(LIST_SOURCES, LIST_SOURCES.replace("message ", "message messageFa ")).replace(
    "me {", f"me {{ {SOURCES}", 1
)
"""The full `me` query, with `sources` and every per-source error's `messageFa`."""


def _states(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["agency"]: s for s in body["data"]["me"]["sources"]}


def _errors(body: dict[str, Any]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(e["path"]): e["extensions"] for e in body.get("errors", [])}


async def test_a_citizen_without_records_gets_empty_and_null_without_errors(
    gateway: RunningGateway,
) -> None:
    status, body = await gateway.query(RECORDS, token=gateway.token(SPARSE))
    assert status == 200
    assert "errors" not in body, body["errors"]
    records = body["data"]["me"]["records"]
    notices = records["judicialNotices"]
    assert notices["items"] == [] and notices["unreadCount"] == 0
    assert notices["source"] == {"agency": "judiciary", "nameFa": "قوه قضاییه", "ageSeconds": 0}
    assert records["socialSecurity"] is None and records["militaryService"] is None
    assert records["tax"] is None
    states = _states(body)
    assert list(states) == ["tax", "social-security", "judiciary", "military-service"]
    for agency in states.values():
        assert agency["state"] == "EMPTY" and agency["error"] is None
        assert agency["fetchedAt"] and agency["ageSeconds"] == 0
    assert states["judiciary"]["nameEn"] == "Judiciary"
    assert states["tax"]["nameFa"] == "سازمان امور مالیاتی"


async def test_an_agency_down_is_unavailable_with_a_persian_message(
    gateway: RunningGateway,
) -> None:
    await gateway.sandbox.set_fault("judiciary", FaultSpec(mode="down"))
    status, body = await gateway.query(RECORDS, token=gateway.token(COMPLETE))
    assert status == 200
    assert body["data"]["me"]["records"]["judicialNotices"] is None
    assert body["data"]["me"]["records"]["tax"]["status"]
    [(path, extensions)] = _errors(body).items()
    assert path == ("me", "records", "judicialNotices")
    sentence = "سامانه قوه قضاییه موقتاً در دسترس نیست؛ کمی بعد دوباره تلاش کنید"
    assert extensions == {
        "code": "AGENCY_UNAVAILABLE",
        "retryable": True,
        "agency": "judiciary",
        "agencyNameFa": "قوه قضاییه",
        "agencyNameEn": "Judiciary",
        "messageFa": sentence,
    }
    judiciary = _states(body)["judiciary"]
    assert judiciary["state"] == "UNAVAILABLE"
    assert judiciary["error"] == {"code": "AGENCY_UNAVAILABLE", "messageFa": sentence}
    assert judiciary["fetchedAt"] is None and judiciary["ageSeconds"] is None
    assert {s["state"] for a, s in _states(body).items() if a != "judiciary"} == {"OK"}


async def test_a_stale_copy_is_stale_with_its_age_and_why() -> None:
    policies = {"tax": {"fresh_ttl": 0.5, "stale_ttl": 3600, "max_attempts": 1}}
    query = "{ me { records { tax { status source { stale fetchedAt } } } " + SOURCES + " } }"
    async with running_gateway(agency_policies=policies) as gw:
        token = gw.token(COMPLETE)
        _, fresh = await gw.query(query, token=token)
        assert _states(fresh)["tax"]["state"] == "OK"
        await asyncio.sleep(1.1)
        await gw.sandbox.set_fault("tax", FaultSpec(mode="flaky", error_rate=1.0))
        status, body = await gw.query(query, token=token)
    assert status == 200
    assert "errors" not in body  # a stale copy is an answer, marked so
    tax = body["data"]["me"]["records"]["tax"]
    assert tax["source"]["stale"] is True
    state = _states(body)["tax"]
    assert state["state"] == "STALE"
    assert state["fetchedAt"] == tax["source"]["fetchedAt"] == _states(fresh)["tax"]["fetchedAt"]
    assert state["ageSeconds"] >= 1
    assert state["error"]["code"] == "AGENCY_UNAVAILABLE"
    assert re.fullmatch(
        "سامانه سازمان امور مالیاتی موقتاً در دسترس نیست؛ "
        "اطلاعات [۱-۹][۰-۹]* ثانیه پیش نمایش داده می‌شود",
        state["error"]["messageFa"],
    ), state["error"]


async def test_sources_name_only_the_agencies_the_selected_fields_ask(
    gateway: RunningGateway,
) -> None:
    query = """query($skip: Boolean!, $mobile: String!) { me {
        ...Deeds
        p: profile @skip(if: $skip) { firstName }
        check: mobileCheck(mobile: $mobile) { matches }
        again: records { vehicles { items { plate } } }
        sources { agency }
    } }
    fragment Deeds on Citizen { records { deeds { items { unit } } } }"""

    async def agencies(skip: bool, mobile: str, acr: int = 3) -> list[str]:
        variables = {"skip": skip, "mobile": mobile}
        token = gateway.token(COMPLETE, acr=acr)
        _, body = await gateway.query(query, token=token, variables=variables)
        return [s["agency"] for s in body["data"]["me"]["sources"]]

    everything = ["civil-registry", "shahkar", "traffic-police", "land-registry"]
    assert await agencies(False, "09121234567") == everything
    assert await agencies(True, "09121234567") == everything[1:]
    assert await agencies(True, "0812") == everything[2:]  # refused before Shahkar is asked
    # Level 2 may not read deeds: that field fails, and the land registry is not asked.
    assert await agencies(True, "09121234567", acr=2) == ["shahkar", "traffic-police"]
    _, alone = await gateway.query("{ me { sources { agency } } }", token=gateway.token(SPARSE))
    assert alone == {"data": {"me": {"sources": []}}}


async def test_bills_parts_with_nothing_are_empty_and_the_list_complete(
    gateway: RunningGateway,
) -> None:
    query = "{ me { bills { complete items { kind } sources { agency state error { code } } } } }"
    _, body = await gateway.query(query, token=gateway.token(SPARSE))
    assert "errors" not in body
    bills = body["data"]["me"]["bills"]
    assert bills["complete"] is True and bills["items"] == []
    assert {s["state"] for s in bills["sources"]} == {"EMPTY"}
    assert all(s["error"] is None for s in bills["sources"])


async def test_an_answer_with_empty_parts_is_kept_and_served_again() -> None:
    async with running_gateway() as gw:
        token = gw.token(SPARSE)
        _, first = await gw.query(RECORDS, token=token)
        calls = gw.sandbox.calls("judiciary")
        _, second = await gw.query(RECORDS, token=token)
        registry = gw.app[METRICS].registry
        hits = registry.get_sample_value("panjereh_response_cache_total", {"result": "hit"})
        assert gw.sandbox.calls("judiciary") == calls
    assert hits == 1
    assert second == first


async def test_a_citizen_without_records_is_audited_as_a_whole_answer(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit = {"path": str(path), "batch_interval_s": 0.05, "key_secret": "k" * 40}
    query = """query($nc: String!) { citizen(nationalCode: $nc, purpose: "benefit check") {
        records { tax { status } judicialNotices { unreadCount } } sources { agency state } } }"""
    async with running_gateway(audit=audit) as gw:
        service = gw.service_token("caseworker-app", ["citizen:read"])
        _, body = await gw.query(query, token=service, variables={"nc": SPARSE})
        assert "errors" not in body
        assert body["data"]["citizen"]["sources"] == [
            {"agency": "tax", "state": "EMPTY"},
            {"agency": "judiciary", "state": "EMPTY"},
        ]
        deadline = time.monotonic() + 10
        while not path.exists() or not path.read_text(encoding="utf-8").strip():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
    [record] = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert record["outcome"] == "ok"  # `partial` when "no record" was an error


async def test_every_error_of_a_run_says_itself_in_persian() -> None:
    """Each fault mode on an agency (for citizens the cache has not seen yet), each persona, and
    the client's own mistakes: every error, in `errors` or in a `sources` entry, has a Persian
    sentence, naming the agency when there is one."""
    seen: list[dict[str, Any]] = []

    def collect(body: dict[str, Any]) -> None:
        seen.extend(error["extensions"] for error in body.get("errors", []))
        me = (body.get("data") or {}).get("me") or {}
        parts = [*(me.get("sources") or [])]
        for aggregate in ("bills", "licenses"):
            parts += (me.get(aggregate) or {}).get("sources", [])
        seen.extend(part["error"] for part in parts if part["error"] is not None)

    mobile = {"mobile": "09121234567"}
    async with running_gateway() as gw:
        citizens = [[COMPLETE, SPARSE, UNKNOWN]] + [[_valid(f"{n:09d}")] for n in range(401, 407)]
        for (mode, agency), who in zip(FAULTED.items(), citizens, strict=True):
            await gw.sandbox.set_fault(agency, FAULTS[mode][0])
            for code in who:
                token = gw.token(code)
                _, body = await gw.query(FULL, token=token, variables=mobile, headers=DEADLINE)
                assert body["data"]["me"] is not None, mode
                collect(body)
            await gw.sandbox.clear_fault(agency)
        _, body = await gw.query(FULL, token=gw.token(COMPLETE, acr=1), variables=mobile)
        collect(body)  # FORBIDDEN: the level is too low
        _, body = await gw.query(FULL, token=gw.token(COMPLETE), variables={"mobile": "1"})
        collect(body)  # INVALID_INPUT
        for query in ("{ me { profile ", "{ me { nope } }", "{ me { nationalCode } }"):
            _, body = await gw.query(query)  # parse, validation, no token
            collect(body)
    codes = set()
    for extensions in seen:
        codes.add(extensions["code"])
        assert PERSIAN.match(extensions["messageFa"]), extensions
        if "agency" in extensions:
            assert extensions["agencyNameFa"] in extensions["messageFa"]
    assert codes >= {
        "AGENCY_UNAVAILABLE", "AGENCY_TIMEOUT", "RATE_LIMITED", "AGENCY_BAD_RESPONSE",
        "FORBIDDEN", "INVALID_INPUT", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED",
        "UNAUTHENTICATED",
    }  # fmt: skip
    assert "NOT_FOUND" not in codes
    waits = [e for e in seen if e["code"] == "RATE_LIMITED" and e.get("agency") == "post"]
    assert waits and all("۳۰ ثانیه دیگر دوباره تلاش کنید" in e["messageFa"] for e in waits)


FAULTED = {
    "down": "civil-registry",
    "hang": "water",
    "slow": "tax",
    "flaky": "judiciary",
    "rate_limited": "post",  # Retry-After: 30
    "malformed": "land-registry",
    "maintenance": "gas",
}


def _valid(first9: str) -> str:
    """A valid national code of a citizen the sandbox generates."""
    return first9 + str(national_code_check_digit(first9))
