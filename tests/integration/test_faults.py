"""Each fault mode of one agency costs one field; the rest of the query resolves.

Faults are injected into the real sandbox; the gateway talks to it over real HTTP.
"""

from __future__ import annotations

import pytest

from sandbox import PERSONAS, FaultSpec
from server import METRICS
from tests.support.faults import DEADLINE, FAULTS
from tests.support.gateway import RunningGateway

COMPLETE = PERSONAS["complete"]

QUERY = """{ me {
  profile { firstName source { stale } }
  address { postalCode }
  bills { items { kind } complete
          sources { agency state error { code retryable retryAfterSeconds } } }
} }"""


def _errors_by_path(body: dict) -> dict[tuple, dict]:
    return {tuple(e["path"]): e for e in body.get("errors", [])}


@pytest.mark.parametrize("mode", FAULTS)
async def test_failing_identity_agency_costs_only_the_profile(
    gateway: RunningGateway, mode: str
) -> None:
    fault, code = FAULTS[mode]
    await gateway.sandbox.set_fault("civil-registry", fault)
    status, body = await gateway.query(QUERY, token=gateway.token(COMPLETE), headers=DEADLINE)
    assert status == 200
    me = body["data"]["me"]
    assert me["profile"] is None
    assert me["address"]["postalCode"]
    assert me["bills"]["complete"] is True
    error = _errors_by_path(body)[("me", "profile")]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["agency"] == "civil-registry"
    assert error["extensions"]["retryable"] is (code != "AGENCY_BAD_RESPONSE")
    assert "Traceback" not in str(body) and "127.0.0.1" not in str(body)


@pytest.mark.parametrize("mode", FAULTS)
async def test_failing_utility_marks_its_source_unavailable(
    gateway: RunningGateway, mode: str
) -> None:
    fault, code = FAULTS[mode]
    await gateway.sandbox.set_fault("water", fault)
    status, body = await gateway.query(QUERY, token=gateway.token(COMPLETE), headers=DEADLINE)
    assert status == 200
    bills = body["data"]["me"]["bills"]
    assert bills["complete"] is False
    states = {s["agency"]: s for s in bills["sources"]}
    assert states["water"]["state"] == "UNAVAILABLE"
    assert states["water"]["error"]["code"] == code
    assert all(s["state"] == "OK" for a, s in states.items() if a != "water")
    kinds = {i["kind"] for i in bills["items"]}
    assert "WATER" not in kinds and {"ELECTRICITY", "GAS", "TAX"} <= kinds
    assert body["data"]["me"]["profile"]["firstName"]


DEEDS = """{ me {
  profile { firstName }
  records { deeds { items { deedNumber share { dang } } source { stale } }
            tax { status } }
} }"""


@pytest.mark.parametrize("mode", FAULTS)
async def test_failing_land_registry_costs_only_the_deeds(
    gateway: RunningGateway, mode: str
) -> None:
    """The sixteenth agency fails like the others: its XML pages broken, refused, late or
    limited cost `records.deeds` alone, with the code of the fault."""
    fault, code = FAULTS[mode]
    await gateway.sandbox.set_fault("land-registry", fault)
    status, body = await gateway.query(DEEDS, token=gateway.token(COMPLETE), headers=DEADLINE)
    assert status == 200
    me = body["data"]["me"]
    assert me["records"]["deeds"] is None
    assert me["records"]["tax"]["status"] and me["profile"]["firstName"]
    [error] = body["errors"]
    assert error["path"] == ["me", "records", "deeds"]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["agency"] == "land-registry"
    assert "Traceback" not in str(body) and "127.0.0.1" not in str(body)


async def test_transient_failures_are_retried(gateway: RunningGateway) -> None:
    token = gateway.token(COMPLETE)
    # Every answer is a 500, 502, 503 or 504; only the last three are worth repeating.
    await gateway.sandbox.set_fault("civil-registry", FaultSpec(mode="flaky", error_rate=1.0))
    for _ in range(5):
        await gateway.query(QUERY, token=token, headers=DEADLINE)
    attempts = gateway.sandbox.calls("civil-registry")
    assert 5 < attempts <= 15  # some retried, none past max_attempts = 3
    retries = gateway.app[METRICS].registry.get_sample_value(
        "panjereh_agency_retries_total", {"agency": "civil-registry"}
    )
    # Every attempt after the first is a retry; a retry the opened circuit then refused is
    # counted too, but never reaches the agency.
    assert retries >= attempts - 5


async def test_malformed_payloads_are_not_retried(gateway: RunningGateway) -> None:
    await gateway.sandbox.set_fault("post", FaultSpec(mode="malformed"))
    await gateway.query(QUERY, token=gateway.token(COMPLETE), headers=DEADLINE)
    assert gateway.sandbox.calls("post") == 1


async def test_rate_limit_reports_when_to_come_back(gateway: RunningGateway) -> None:
    await gateway.sandbox.set_fault("water", FaultSpec(mode="rate_limited", retry_after_s=30))
    _, body = await gateway.query(QUERY, token=gateway.token(COMPLETE), headers=DEADLINE)
    water = {s["agency"]: s for s in body["data"]["me"]["bills"]["sources"]}["water"]
    assert water["error"]["retryAfterSeconds"] == 30
    assert gateway.sandbox.calls("water") == 1  # a 30 s Retry-After is not waited for


async def test_a_short_retry_after_is_waited_for_within_the_deadline(
    gateway: RunningGateway,
) -> None:
    await gateway.sandbox.set_fault("water", FaultSpec(mode="rate_limited", retry_after_s=1))
    _, body = await gateway.query(
        QUERY, token=gateway.token(COMPLETE), headers={"X-Request-Timeout": "5"}
    )
    assert gateway.sandbox.calls("water") >= 2
    water = {s["agency"]: s for s in body["data"]["me"]["bills"]["sources"]}["water"]
    assert water["error"]["code"] == "RATE_LIMITED"


async def test_the_agency_recovering_brings_the_field_back(gateway: RunningGateway) -> None:
    token = gateway.token(COMPLETE)
    await gateway.sandbox.set_fault("civil-registry", FaultSpec(mode="down"))
    _, body = await gateway.query(QUERY, token=token, headers=DEADLINE)
    assert body["data"]["me"]["profile"] is None
    await gateway.sandbox.clear_fault("civil-registry")
    _, body = await gateway.query(QUERY, token=token, headers=DEADLINE)
    assert body["data"]["me"]["profile"]["firstName"]


async def test_short_client_deadlines_do_not_open_an_agency_circuit(
    gateway: RunningGateway,
) -> None:
    """Timeouts cut short by the caller's deadline say nothing about the agency's health."""
    await gateway.sandbox.set_fault(
        "water", FaultSpec(mode="slow", latency_p50_ms=3000, latency_p99_ms=4000)
    )
    query = "{ me { bills { sources { agency error { code } } } } }"
    for _ in range(15):
        _, body = await gateway.query(
            query, token=gateway.token(COMPLETE), headers={"X-Request-Timeout": "0.2"}
        )
        water = {s["agency"]: s for s in body["data"]["me"]["bills"]["sources"]}["water"]
        assert water["error"]["code"] == "AGENCY_TIMEOUT"
    circuit = gateway.app[METRICS].registry.get_sample_value(
        "panjereh_agency_circuit_state", {"agency": "water"}
    )
    assert circuit == 0
