"""Log lines are JSON, carry the request id of the request that caused them, and never a
national code or a token."""

from __future__ import annotations

import io
import json

from sandbox import PERSONAS, FaultSpec
from tests.integration.queries import CITIZEN, ME
from tests.support.gateway import RunningGateway

COMPLETE, SPARSE = PERSONAS["complete"], PERSONAS["sparse"]
MOBILE = "09121234567"


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_full_run_logs_json_with_request_ids_and_no_codes_or_tokens(
    gateway: RunningGateway, json_lines: io.StringIO
) -> None:
    citizen = gateway.token(COMPLETE)
    service = gateway.service_token("caseworker-app", ["citizen:read"])
    await gateway.sandbox.set_fault("water", FaultSpec(mode="down"))
    _, body = await gateway.query(
        ME, token=citizen, variables={"mobile": MOBILE}, headers={"X-Request-Id": "home-1"}
    )
    assert body["data"]["me"]["profile"]  # water failed (its bills part says so), the rest answered
    variables = {"nc": SPARSE, "purpose": "loan review", "mobile": MOBILE}
    _, body = await gateway.query(
        CITIZEN, token=service, variables=variables, headers={"X-Request-Id": "case-7"}
    )
    assert body["data"]["citizen"]["nationalCode"] == SPARSE
    async with gateway.client.get(f"{gateway.url}/metrics") as response:
        assert response.status == 200
    async with gateway.client.get(f"{gateway.url}/{COMPLETE}") as response:
        assert response.status == 404  # a code in a path must not reach the log either

    raw = json_lines.getvalue()
    for secret in (COMPLETE, SPARSE, MOBILE, citizen, service):
        assert secret not in raw
    lines = _lines(json_lines)
    assert all({"time", "level", "logger", "message", "request_id"} <= set(x) for x in lines)

    home = [x for x in lines if x["request_id"] == "home-1"]
    access = [x for x in home if x["logger"] == "panjereh.http"]
    assert len(access) == 1 and access[0]["status"] == 200 and access[0]["path"] == "/graphql"
    calls = [x for x in home if "agency" in x]
    assert {x["agency"] for x in calls} >= {"civil-registry", "water"}
    water = [x for x in calls if x["agency"] == "water"]
    assert water and all(x["outcome"] == "unavailable" and x["level"] == "WARNING" for x in water)
    assert all(isinstance(x["duration_ms"], float) for x in calls)
    case = [x for x in lines if x["request_id"] == "case-7"]
    assert any(x.get("agency") == "civil-registry" for x in case)

    polls = [x for x in lines if x.get("path") == "/metrics"]
    assert len(polls) == 1 and polls[0]["level"] == "DEBUG"
    assert any(x.get("path") == "(unmatched)" and x["status"] == 404 for x in lines)


async def test_a_refused_request_id_is_replaced_in_the_log_and_the_answer(
    gateway: RunningGateway, json_lines: io.StringIO
) -> None:
    async with gateway.client.get(
        f"{gateway.url}/healthz", headers={"X-Request-Id": f"id-{COMPLETE}"}
    ) as response:
        echoed = response.headers["X-Request-Id"]
    assert COMPLETE not in echoed
    (line,) = [x for x in _lines(json_lines) if x.get("path") == "/healthz"]
    assert line["request_id"] == echoed and line["level"] == "DEBUG"
