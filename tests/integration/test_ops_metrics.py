"""The metric families ops read, scraped as Prometheus scrapes them: `/metrics` over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import platform

from prometheus_client.parser import text_string_to_metric_families

from sandbox import PERSONAS, FaultSpec
from tests.integration.queries import PROFILE
from tests.support.gateway import RunningGateway

COMPLETE, SPARSE, UNKNOWN = PERSONAS["complete"], PERSONAS["sparse"], PERSONAS["unknown"]
OPS_STATE = "{ agencies { id circuit } }"
SCHEDULE = """mutation($agency: String!, $startsAt: DateTime!, $endsAt: DateTime!) {
  scheduleMaintenance(agency: $agency, startsAt: $startsAt, endsAt: $endsAt, note: "nightly") {
    window { origin } } }"""


async def _scrape(gateway: RunningGateway) -> str:
    async with gateway.client.get(f"{gateway.url}/metrics") as response:
        assert response.status == 200
        return await response.text()


def _value(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


async def test_process_python_and_build_series_and_no_created(gateway: RunningGateway) -> None:
    await gateway.query(PROFILE, token=gateway.token(COMPLETE))
    text = await _scrape(gateway)
    assert (_value(text, "process_resident_memory_bytes") or 0) > 0
    assert _value(text, "python_gc_objects_collected_total", generation="0") is not None
    assert _value(text, "python_info", version=platform.python_version()) == 1
    build = _value(text, "panjereh_build_info", python=platform.python_version())
    assert build == 1 and 'panjereh_build_info{python="' in text and 'version="' in text
    assert "_created" not in text  # 113 such series before
    assert _value(text, "panjereh_graphql_requests_in_flight") == 0
    assert _value(text, "panjereh_agency_bulkhead_capacity", agency="tax") == 32
    assert _value(text, "panjereh_agency_bulkhead_in_use", agency="tax") == 0
    assert _value(text, "panjereh_agency_circuit_forced", agency="tax") == 0


async def test_outcome_classes_separate_clients_from_gateway_failures(
    gateway: RunningGateway,
) -> None:
    async with gateway.client.post(
        f"{gateway.url}/graphql",
        json={"query": PROFILE},
        headers={"Authorization": "Bearer not-a-jwt"},
    ) as response:
        assert response.status == 401  # before GraphQL: not counted at all before
    await gateway.query("{ me { profile ")  # a syntax error: not counted before
    await gateway.query(PROFILE)  # no token: counted as a gateway `error` before
    _, body = await gateway.query(PROFILE, token=gateway.token(UNKNOWN))
    assert "errors" not in body and body["data"]["me"]["profile"] is None  # no record: `ok`
    await gateway.query(PROFILE, token=gateway.token(COMPLETE))
    await gateway.sandbox.set_fault("civil-registry", FaultSpec(mode="down"))
    _, body = await gateway.query(
        "{ me { profile { firstName } bills { totalAmount } } }", token=gateway.token(SPARSE)
    )
    assert body["data"]["me"]["bills"] is not None and body["data"]["me"]["profile"] is None
    text = await _scrape(gateway)
    counted = {
        outcome: _value(text, "panjereh_graphql_requests_total", outcome=outcome)
        for outcome in ("ok", "partial", "client_error", "error")
    }
    assert counted == {"ok": 2, "partial": 1, "client_error": 3, "error": None}
    assert _value(text, "panjereh_auth_failures_total", reason="malformed") == 1
    assert _value(text, "panjereh_auth_failures_total", reason="missing") == 1


async def test_an_agency_wholly_failing_is_a_gateway_error(gateway: RunningGateway) -> None:
    await gateway.sandbox.set_fault("civil-registry", FaultSpec(mode="down"))
    await gateway.query(PROFILE, token=gateway.token(COMPLETE))
    text = await _scrape(gateway)
    assert _value(text, "panjereh_graphql_requests_total", outcome="error") == 1


async def test_an_agency_in_its_window_is_maintenance_not_a_gateway_error(
    gateway: RunningGateway,
) -> None:
    """A nightly window made GatewayErrorsHigh page: `{ me { profile } }` answers nothing then,
    and counted `error`. Now `maintenance` (nothing else failed), or `partial` beside data."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    window = {"startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(hours=1)).isoformat()}
    ops = gateway.service_token("ops-desk", ["ops"])
    _, body = await gateway.query(
        SCHEDULE, token=ops, variables={"agency": "civil-registry", **window}
    )
    assert body["data"]["scheduleMaintenance"]["window"]["origin"] == "OPS", body
    token = gateway.token(COMPLETE)
    _, body = await gateway.query(PROFILE, token=token)
    assert body["data"]["me"]["profile"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["AGENCY_MAINTENANCE"]
    both = "{ me { profile { firstName } bills { totalAmount } } }"
    _, body = await gateway.query(both, token=token)
    assert body["data"]["me"]["bills"] is not None and body["data"]["me"]["profile"] is None
    text = await _scrape(gateway)
    counted = {
        outcome: _value(text, "panjereh_graphql_requests_total", outcome=outcome)
        for outcome in ("ok", "partial", "maintenance", "error")
    }
    assert counted == {"ok": 1, "partial": 1, "maintenance": 1, "error": None}  # ok: the mutation


async def test_bulkhead_slots_in_use_are_seen_while_an_agency_hangs(
    gateway: RunningGateway,
) -> None:
    await gateway.sandbox.set_fault("civil-registry", FaultSpec(mode="hang"))
    call = asyncio.create_task(
        gateway.query(PROFILE, token=gateway.token(COMPLETE), headers={"X-Request-Timeout": "2"})
    )
    seen = in_flight = 0.0
    for _ in range(100):
        text = await _scrape(gateway)
        seen = _value(text, "panjereh_agency_bulkhead_in_use", agency="civil-registry") or 0
        in_flight = _value(text, "panjereh_graphql_requests_in_flight") or 0
        if seen:
            break
        await asyncio.sleep(0.02)
    assert seen == 1 and in_flight == 1
    await call
    text = await _scrape(gateway)
    assert _value(text, "panjereh_agency_bulkhead_in_use", agency="civil-registry") == 0
    assert _value(text, "panjereh_graphql_requests_in_flight") == 0


async def test_forced_circuits_are_exported_and_released(gateway: RunningGateway) -> None:
    token = gateway.service_token("ops-desk", ["ops"])
    force = 'mutation { setCircuit(agency: "tax", state: %s) { agency { circuit } } }'
    _, body = await gateway.query(force % "OPEN", token=token)
    assert body["data"]["setCircuit"]["agency"]["circuit"] == "OPEN"
    text = await _scrape(gateway)
    assert _value(text, "panjereh_agency_circuit_forced", agency="tax") == 1
    assert _value(text, "panjereh_agency_circuit_state", agency="tax") == 2
    await gateway.query(force % "AUTO", token=token)
    text = await _scrape(gateway)
    assert _value(text, "panjereh_agency_circuit_forced", agency="tax") == 0
    assert _value(text, "panjereh_agency_circuit_state", agency="tax") == 0  # stuck at 2 before
    await gateway.query(force % "CLOSED", token=token)
    text = await _scrape(gateway)
    assert _value(text, "panjereh_agency_circuit_forced", agency="tax") == 1
