"""Hostile HTTP input gets a typed 4xx with a JSON body, never a 500 or a logged traceback.

Before: a body of `"x"`, `123` or `null`, invalid UTF-8 or variables nested 1000 deep gave a
500 and a stack trace in the log; `application/jsonp` passed the content-type check; several
operations without `operationName` ran the first; syntax errors had no code; production still
said "Did you mean …" for arguments, enum values and types.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from sandbox import PERSONAS
from tests.support.gateway import RunningGateway

COMPLETE = PERSONAS["complete"]
JSON = "application/json"
QUERY = '{"query": "{ __typename }"}'

CASES: dict[str, tuple[bytes, str | None, int]] = {
    # name: (body, content type, expected status)
    "string": (b'"x"', JSON, 400),
    "number": (b"123", JSON, 400),
    "null": (b"null", JSON, 400),
    "list without batching": (b"[]", JSON, 400),
    "not JSON": (b"{query", JSON, 400),
    "invalid UTF-8": (b'{"query": "{ __typename \xff }"}', JSON, 400),
    "variables 1000 deep": (
        b'{"query": "query($v: String) { __typename }", "variables": {"v": '
        + b"[" * 1000
        + b"]" * 1000
        + b"}}",
        JSON,
        400,
    ),
    "variables 40 deep": (
        b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 40 + b"]" * 40 + b"}}",
        JSON,
        400,
    ),
    "huge variables": (
        b'{"query": "{ __typename }", "variables": {"v": [' + b"1," * 200_000 + b"1]}}",
        JSON,
        400,
    ),
    "an integer of 5000 digits": (
        b'{"query": "{ __typename }", "variables": {"a": ' + b"9" * 5_000 + b"}}",
        JSON,
        400,
    ),
    "query not a string": (b'{"query": 1}', JSON, 400),
    "variables not an object": (b'{"query": "{ __typename }", "variables": "x"}', JSON, 400),
    "application/jsonp": (QUERY.encode(), "application/jsonp", 415),
    "text/plain": (QUERY.encode(), "text/plain", 415),
    "no content type": (QUERY.encode(), None, 415),
    "over the body limit": (b'{"query": "' + b"x" * 1_100_000 + b'"}', JSON, 413),
}


async def send(gateway: RunningGateway, body: bytes, content_type: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {gateway.token(COMPLETE)}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with gateway.client.post(
        f"{gateway.url}/graphql", data=body, headers=headers, skip_auto_headers=["Content-Type"]
    ) as response:
        assert response.content_type == JSON
        return response.status, await response.json()


def assert_clean_log(caplog: pytest.LogCaptureFixture) -> None:
    """No stack trace, no error record, no national code."""
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert COMPLETE not in caplog.text


@pytest.mark.parametrize("name", list(CASES))
async def test_hostile_body_gets_a_typed_4xx(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    caplog.set_level(logging.INFO)
    body, content_type, expected = CASES[name]
    status, answer = await send(gateway, body, content_type)
    assert status == expected
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert isinstance(error["message"], str) and "Traceback" not in error["message"]
    async with gateway.client.get(f"{gateway.url}/healthz") as response:
        assert response.status == 200
    assert_clean_log(caplog)


async def test_json_with_a_charset_parameter_is_accepted(gateway: RunningGateway) -> None:
    status, answer = await send(gateway, QUERY.encode(), "application/json; charset=utf-8")
    assert status == 200 and answer == {"data": {"__typename": "Query"}}


async def test_several_operations_without_a_name_are_refused_not_run(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    document = "query A { me { nationalCode } } query B { __typename }"
    status, answer = await gateway.query(document, token=gateway.token(COMPLETE))
    assert status == 200 and answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    async with gateway.client.post(
        f"{gateway.url}/graphql", json={"query": document, "operationName": "B"}
    ) as response:
        assert (await response.json()) == {"data": {"__typename": "Query"}}
    assert_clean_log(caplog)


async def test_syntax_and_validation_errors_have_their_codes(gateway: RunningGateway) -> None:
    _, answer = await gateway.query("{ __typename ")
    assert answer["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    _, answer = await gateway.query("{ billInqury { billId } }")
    assert answer["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


SUGGESTED = {
    "field": ("{ billInqury { billId } }", None),
    "argument": ('{ billInquiry(billId: "1", paymentIdd: "2") { billId } }', None),
    "type": ("{ ... on Qery { __typename } }", None),
    "enum value": ('mutation { setCircuit(agency: "tax", state: OPN) { appliedTo } }', None),
    "enum value in variables": (
        'mutation M($s: CircuitOverride!) { setCircuit(agency: "tax", state: $s) { appliedTo } }',
        {"s": "OPN"},
    ),
}


@pytest.mark.parametrize("name", list(SUGGESTED))
async def test_production_hides_every_suggestion(
    gateway: RunningGateway, production_gateway: RunningGateway, name: str
) -> None:
    query, variables = SUGGESTED[name]
    _, development = await gateway.query(query, variables=variables)
    assert "Did you mean" in development["errors"][0]["message"]
    status, production = await production_gateway.query(query, variables=variables)
    assert status == 200 and production["errors"]
    assert not any("Did you mean" in e["message"] for e in production["errors"])
    assert all(e["extensions"]["code"] != "INTERNAL" for e in production["errors"])


async def test_a_websocket_message_with_a_huge_integer_closes_the_socket_cleanly(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """Once answered by a 500 written onto the upgraded connection (close 1002) and a logged
    traceback; now the socket is closed as for any message that is not JSON."""
    caplog.set_level(logging.INFO)
    async with gateway.client.ws_connect(
        f"{gateway.url}/graphql", protocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send_str('{"type": "connection_init", "payload": {"a": ' + "9" * 5_000 + "}}")
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 4400
    async with gateway.client.get(f"{gateway.url}/healthz") as response:
        assert response.status == 200
    assert_clean_log(caplog)
