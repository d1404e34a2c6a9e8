"""The ops API over agency health: state, availability, incidents and maintenance of every
agency, and `agencyStateChanged` over graphql-transport-ws, against the real sandbox with no
user traffic (probes every 0.25 s here, 15 s in production).

Before, ops saw only each instance's circuit and the outcome of its last call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from connectors.registry import AGENCY_IDS
from sandbox import PERSONAS
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.websocket import graphql_socket

PROBES = {"interval_s": 0.25, "timeout_s": 0.125}
WITHIN_S = 6.0  # two cores shared with other test runs: ticks may start late

AGENCIES = """{ agencies {
  id nameFa nameEn state stateSince up latencyP95 circuit circuitForced
  day: availability(window: DAY) { window excludingMaintenance includingMaintenance }
  fiveMinutes: availability(window: FIVE_MINUTES) { excludingMaintenance }
  incidents(first: 5) { id agency startedAt endedAt durationSeconds worst failures { kind count } }
  maintenance { startsAt endsAt origin note }
  nextMaintenance { startsAt endsAt origin note }
} }"""
CHANGES = """subscription($agency: String) {
  agencyStateChanged(agency: $agency) { agency previous state at } }"""


@pytest.fixture
async def gateway() -> AsyncIterator[RunningGateway]:
    async with running_gateway(probes=PROBES) as gw:
        yield gw


async def _until(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """`check()`'s first truthy answer; fails the test if none came within WITHIN_S."""
    started = time.monotonic()
    while not (answer := await check()):
        if time.monotonic() - started > WITHIN_S:
            pytest.fail(f"not within {WITHIN_S} s: {what}")
        await asyncio.sleep(0.05)
    return answer


async def _agencies(gw: RunningGateway, query: str = AGENCIES) -> dict[str, dict[str, Any]]:
    status, body = await gw.query(query, token=gw.service_token("ops-dashboard", ["ops"]))
    assert status == 200 and "errors" not in body, body
    return {a["id"]: a for a in body["data"]["agencies"]}


def _time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    assert parsed.utcoffset() == dt.timedelta(0), value  # UTC, offset written out
    return parsed


async def test_ops_sees_every_agency_state_availability_and_incidents(
    gateway: RunningGateway,
) -> None:
    agencies = await _agencies(gateway)
    assert list(agencies) == list(AGENCY_IDS)
    water = agencies["water"]
    assert (water["nameFa"], water["nameEn"]) == ("آب و فاضلاب", "Water and Wastewater")
    assert water["state"] == "UP" and water["up"] is True
    assert water["incidents"] == [] and water["maintenance"] is None
    _time(water["stateSince"])

    await gateway.sandbox.set_fault("electricity", "down")

    async def electricity_down() -> dict[str, Any] | None:
        electricity = (await _agencies(gateway))["electricity"]
        return electricity if electricity["state"] == "DOWN" else None

    down = await _until(electricity_down, "electricity DOWN")
    assert down["up"] is False
    [incident] = down["incidents"]
    assert incident["agency"] == "electricity" and incident["worst"] == "DOWN"
    assert incident["endedAt"] is None and incident["durationSeconds"] >= 0
    assert {f["kind"]: f["count"] for f in incident["failures"]}["REFUSED"] >= 1
    assert _time(incident["startedAt"]) <= dt.datetime.now(dt.UTC)
    assert down["fiveMinutes"]["excludingMaintenance"] < 1.0
    assert down["day"]["window"] == "DAY"

    await gateway.sandbox.clear_fault("electricity")

    async def electricity_up() -> dict[str, Any] | None:
        electricity = (await _agencies(gateway))["electricity"]
        return electricity if electricity["state"] == "UP" else None

    up = await _until(electricity_up, "electricity UP again")
    [closed] = [i for i in up["incidents"] if i["id"] == incident["id"]]
    ended, started = _time(closed["endedAt"]), _time(closed["startedAt"])
    assert closed["durationSeconds"] == pytest.approx((ended - started).total_seconds(), abs=0.01)
    others = await _agencies(gateway)
    assert all(a["state"] == "UP" for a in others.values()), others
    assert others["water"]["fiveMinutes"]["excludingMaintenance"] == 1.0
    assert others["water"]["latencyP95"] is not None and others["water"]["latencyP95"] >= 0


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_incidents_first_is_between_1_and_100(gateway: RunningGateway, first: int) -> None:
    ops = gateway.service_token("ops-dashboard", ["ops"])
    query = "query($first: Int!) { agencies { id incidents(first: $first) { id } } }"
    _, body = await gateway.query(query, token=ops, variables={"first": first})
    [error] = {e["extensions"]["code"]: e for e in body["errors"]}.values()
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["field"] == "first"
    _, body = await gateway.query(query, token=ops, variables={"first": 100})
    assert "errors" not in body and len(body["data"]["agencies"]) == len(AGENCY_IDS)


async def test_an_unknown_window_is_refused_by_the_schema(gateway: RunningGateway) -> None:
    ops = gateway.service_token("ops-dashboard", ["ops"])
    _, body = await gateway.query(
        "{ agencies { availability(window: YEAR) { window } } }", token=ops
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_state_changes_stream_to_an_ops_subscriber_and_back(gateway: RunningGateway) -> None:
    ops = gateway.service_token("ops-dashboard", ["ops"])
    async with graphql_socket(gateway.client, gateway.ws_url, token=ops) as socket:
        assert socket.acked
        gas = await socket.subscribe(CHANGES, {"agency": "gas"})
        every = await socket.subscribe(CHANGES)
        await asyncio.sleep(0.3)  # the subscriptions are registered before the first change
        await gateway.sandbox.set_fault("gas", "down")
        await gateway.sandbox.set_fault("tax", "down")  # not gas: not on gas's subscription

        first = (await gas.next(wait_s=WITHIN_S))["data"]["agencyStateChanged"]
        assert first["agency"] == "gas" and first["previous"] == "UP"
        assert first["state"] in ("DOWN", "DEGRADED")
        assert abs(_time(first["at"]).timestamp() - time.time()) < WITHIN_S

        seen = [first["state"]]
        await gateway.sandbox.clear_fault("gas")
        await gateway.sandbox.clear_fault("tax")
        while seen[-1] != "UP":
            change = (await gas.next(wait_s=WITHIN_S))["data"]["agencyStateChanged"]
            assert change["agency"] == "gas" and change["previous"] == seen[-1]
            seen.append(change["state"])
        assert "DOWN" in seen, seen  # refused probes with no traffic: DOWN, then back

        agencies = set()
        while "tax" not in agencies or "gas" not in agencies:
            result = await every.next(wait_s=WITHIN_S)
            agencies.add(result["data"]["agencyStateChanged"]["agency"])
        await gas.stop()
        await every.stop()


async def test_a_subscription_to_an_unknown_agency_is_invalid_input(
    gateway: RunningGateway,
) -> None:
    ops = gateway.service_token("ops-dashboard", ["ops"])
    async with graphql_socket(gateway.client, gateway.ws_url, token=ops) as socket:
        subscription = await socket.subscribe(CHANGES, {"agency": "nope"})
        result = await subscription.next(wait_s=WITHIN_S)
        assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


@pytest.mark.parametrize("who", ["citizen", "caseworker", "anonymous"])
async def test_without_the_ops_scope_none_of_it_is_served(
    gateway: RunningGateway, who: str
) -> None:
    token = {
        "citizen": gateway.token(PERSONAS["complete"]),
        "caseworker": gateway.service_token("caseworker-app", ["citizen:read"]),
        "anonymous": None,
    }[who]
    expected = "UNAUTHENTICATED" if token is None else "FORBIDDEN"
    _, body = await gateway.query(AGENCIES, token=token)
    assert body["data"] is None or body["data"]["agencies"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {expected}

    async with graphql_socket(gateway.client, gateway.ws_url, token=token) as socket:
        subscription = await socket.subscribe(CHANGES, {"agency": "gas"})
        result = await subscription.next(wait_s=WITHIN_S)
        assert {e["extensions"]["code"] for e in result["errors"]} == {expected}, result
        assert result.get("data") is None


async def test_a_subscription_ends_when_the_ops_token_expires(gateway: RunningGateway) -> None:
    """The connection never outlives the token it was opened with, however long a
    subscription would have streamed."""
    ops = gateway.service_token("ops-dashboard", ["ops"], ttl_s=2)
    async with graphql_socket(gateway.client, gateway.ws_url, token=ops) as socket:
        changes = await socket.subscribe(CHANGES)
        started = time.monotonic()
        assert await changes.next(wait_s=10) == {"closed": 4401}
        assert time.monotonic() - started < 5
