"""Authentication levels: a citizen below a field's level gets FORBIDDEN with `requiredLevel`,
whatever the query's form, and the fields they may read still answer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import jwt
import pytest

from auth.trust import DEV_ISSUER, DEV_JWT_SECRET
from sandbox import PERSONAS
from schema.levels import field_levels
from schema.schema import build_schema
from tests.support.gateway import RunningGateway, running_gateway

COMPLETE = PERSONAS["complete"]
LEVELS = field_levels(build_schema())
"""Each guarded field and its level, read from the schema the gateway serves."""

SELECTIONS = {
    "Citizen.profile": "profile { firstName }",
    "Citizen.address": "address { city }",
    "Citizen.mobileCheck": 'mobileCheck(mobile: "09121234567") { matches }',
    "Citizen.bills": "bills { totalAmount }",
    "Citizen.licenses": "licenses { complete }",
    "Records.vehicles": "records { vehicles { items { plate } } }",
    "Records.education": "records { education { items { level } } }",
    "Records.militaryService": "records { militaryService { status } }",
    "Records.socialSecurity": "records { socialSecurity { status } }",
    "Records.healthInsurance": "records { healthInsurance { covered } }",
    "Records.judicialNotices": "records { judicialNotices { unreadCount } }",
    "Records.tax": "records { tax { status } }",
    "Records.deeds": "records { deeds { items { deedNumber share { dang } } } }",
    "Me.accessLog": "accessLog { items { client } }",
}

FORMS = {
    "plain": ("{ me { records { tax { status } } } }", None),
    "alias": ("{ a: me { b: records { c: tax { status } d: tax { status } } } }", None),
    "fragment": (
        "query { me { ...R } } fragment R on Citizen { records { ...T } } "
        "fragment T on Records { tax { status } }",
        None,
    ),
    "inline fragment": (
        "{ me { ... on Citizen { records { ... on Records { tax { status } } } } } }",
        None,
    ),
    "variables": (
        "query($yes: Boolean!, $no: Boolean!) { me { records { "
        "tax @include(if: $yes) { status } t2: tax @skip(if: $no) { status } } } }",
        {"yes": True, "no": False},
    ),
    "operation name": (
        "query A { me { nationalCode } } query B { me { records { tax { status } } } }",
        None,
    ),
}


@pytest.fixture
async def gateway() -> AsyncIterator[RunningGateway]:
    async with running_gateway() as gw:
        yield gw


def forbidden(body: dict) -> list[dict]:
    return [e for e in body.get("errors", []) if e["extensions"]["code"] == "FORBIDDEN"]


def test_every_guarded_field_has_a_query() -> None:
    assert set(SELECTIONS) == set(LEVELS)


def test_property_deeds_need_the_strong_level() -> None:
    """Who owns which property is as sensitive as their taxes: level 3."""
    assert LEVELS["Records.deeds"] == LEVELS["Records.tax"] == 3


@pytest.mark.parametrize("field", sorted(LEVELS))
async def test_each_field_needs_its_level(gateway: RunningGateway, field: str) -> None:
    level, query = LEVELS[field], f"{{ me {{ {SELECTIONS[field]} }} }}"
    if level > 1:
        _, body = await gateway.query(query, token=gateway.token(COMPLETE, acr=level - 1))
        [error] = forbidden(body)
        assert error["extensions"]["requiredLevel"] == level
        assert error["path"][-1] == field.split(".")[1]
    _, body = await gateway.query(query, token=gateway.token(COMPLETE, acr=level))
    assert not forbidden(body), body


@pytest.mark.parametrize("form", FORMS)
async def test_every_query_form_is_checked(gateway: RunningGateway, form: str) -> None:
    query, variables = FORMS[form]
    payload = {"query": query, "variables": variables}
    if form == "operation name":
        payload["operationName"] = "B"
    for acr, refused in ((2, True), (3, False)):
        token = gateway.token(COMPLETE, acr=acr)
        async with gateway.client.post(
            f"{gateway.url}/graphql",
            json={k: v for k, v in payload.items() if v is not None},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            body = await response.json()
        errors = forbidden(body)
        if refused:
            assert errors, body
            assert {e["extensions"]["requiredLevel"] for e in errors} == {3}
            assert all(e["path"][-1] in {"tax", "c", "d", "t2"} for e in errors)
        else:
            assert not errors and "errors" not in body, body


async def test_a_low_level_still_reads_what_it_may(gateway: RunningGateway) -> None:
    query = "{ me { nationalCode bills { totalAmount } profile { firstName } } }"
    _, body = await gateway.query(query, token=gateway.token(COMPLETE, acr=1))
    assert body["data"]["me"]["nationalCode"] == COMPLETE
    assert body["data"]["me"]["bills"]["totalAmount"] is not None
    assert body["data"]["me"]["profile"] is None
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "FORBIDDEN",
        "retryable": False,
        "requiredLevel": 2,
        "messageFa": "برای دیدن این اطلاعات باید با روشی مطمئن‌تر (سطح ۲) وارد شوید",
    }


async def test_a_token_without_acr_is_level_1(gateway: RunningGateway) -> None:
    now = int(time.time())
    claims = {"sub": COMPLETE, "iss": DEV_ISSUER, "aud": "panjereh", "iat": now, "exp": now + 60}
    token = jwt.encode(claims, DEV_JWT_SECRET, algorithm="HS256")
    _, body = await gateway.query("{ me { profile { firstName } } }", token=token)
    assert forbidden(body)[0]["extensions"]["requiredLevel"] == 2


async def test_reading_oneself_through_citizen_is_checked_too(gateway: RunningGateway) -> None:
    query = (
        'query($nc: String!) { citizen(nationalCode: $nc, purpose: "self") '
        "{ r: records { tax { status } } } }"
    )
    _, body = await gateway.query(
        query, token=gateway.token(COMPLETE, acr=1), variables={"nc": COMPLETE}
    )
    assert forbidden(body)[0]["extensions"]["requiredLevel"] == 3


async def test_service_clients_are_exempt(gateway: RunningGateway) -> None:
    token = gateway.service_token("caseworker-app", ["citizen:read"])
    query = (
        'query($nc: String!) { citizen(nationalCode: $nc, purpose: "case 12") '
        "{ records { tax { status } judicialNotices { unreadCount } } } }"
    )
    _, body = await gateway.query(query, token=token, variables={"nc": COMPLETE})
    assert not forbidden(body), body
