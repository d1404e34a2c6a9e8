"""Ops on a fleet sharing Redis: orders hold on every instance (a forced circuit, instances
started later included; a one-off maintenance window), and every instance answers with the
fleet's agency state and incidents and streams its changes.

Three real gateways on one real Redis in front of one sandbox: an order given to one instance
is announced (pub/sub) and stored (a hash per namespace), so the others refuse the agency
within a second without calling it, a later instance holds it from start-up, and AUTO releases
it everywhere. Before, `setCircuit` reached only the instance that answered it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from connectors.circuit_overrides import CircuitOrder, CircuitOverrides, CircuitScope
from connectors.pipeline.breaker import CircuitState
from sandbox import PERSONAS
from server import CONNECTORS, MAINTENANCE
from tests.redis_server import delete_namespace, redis_client, unique_namespace
from tests.support.gateway import RunningGateway, another_instance, running_gateway
from tests.support.redis_topologies import every_topology
from tests.support.websocket import graphql_socket

pytestmark = pytest.mark.redis

FORCE = """mutation($agency: String!, $state: CircuitOverride!) {
  setCircuit(agency: $agency, state: $state) {
    appliedTo agency { circuit forcedCircuit { state by appliedTo } } } }"""
BILLS = "{ me { bills { items { kind } sources { agency state error { code } } } } }"
STATUS = "{ agencies { id circuit circuitForced forcedCircuit { state by appliedTo } } }"


async def _until(check: Callable[[], bool], within_s: float) -> float:
    """Seconds until `check()` held; fails the test if it did not within `within_s`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within_s:
            pytest.fail(f"not within {within_s} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


def _water(gw: RunningGateway) -> CircuitState:
    return gw.app[CONNECTORS].water.breaker.state


async def _water_source(gw: RunningGateway) -> dict[str, object]:
    _, body = await gw.query(BILLS, token=gw.token(PERSONAS["complete"]))
    return {s["agency"]: s for s in body["data"]["me"]["bills"]["sources"]}["water"]


redis_url = every_topology()  # circuit orders and maintenance windows, on every topology


@pytest.fixture
async def namespace(redis_url: str) -> AsyncIterator[str]:
    namespace = unique_namespace().rstrip(":")
    async with redis_client(redis_url) as client:
        try:
            yield namespace
        finally:
            await delete_namespace(client, namespace)


async def test_a_forced_circuit_holds_on_every_instance_and_on_later_ones(
    redis_url: str, namespace: str
) -> None:
    async with (
        running_gateway(
            redis_url=redis_url,
            cache_namespace=namespace,
            cache_key_secret="shared-by-every-instance",
            cache_timeout_s=2,
            response_cache="off",
        ) as a,
        another_instance(a) as b,
    ):
        ops = a.service_token("ops-dashboard", ["ops"])
        status, body = await a.query(
            FORCE, token=ops, variables={"agency": "water", "state": "OPEN"}
        )
        assert status == 200, body
        assert body["data"]["setCircuit"] == {
            "appliedTo": "FLEET",
            "agency": {
                "circuit": "OPEN",
                "forcedCircuit": {"state": "OPEN", "by": "ops-dashboard", "appliedTo": "FLEET"},
            },
        }
        took = await _until(lambda: _water(b) is CircuitState.OPEN, 1.0)
        print(f"instance B held water OPEN {took * 1000:.0f} ms after A answered")

        a.sandbox.reset_calls()
        water = await _water_source(b)
        assert water["error"] == {"code": "CIRCUIT_OPEN"}
        assert a.sandbox.calls("water") == 0  # refused by B's breaker: never sent
        assert a.sandbox.calls("gas") > 0  # the rest of the answer was asked for

        _, body = await b.query(STATUS, token=ops)
        seen_by_b = {x["id"]: x for x in body["data"]["agencies"]}["water"]
        assert seen_by_b["forcedCircuit"] == {
            "state": "OPEN",
            "by": "ops-dashboard",
            "appliedTo": "FLEET",
        }

        async with another_instance(a) as c:  # started after the order: holds it from start-up
            assert _water(c) is CircuitState.OPEN
            assert (await _water_source(c))["error"] == {"code": "CIRCUIT_OPEN"}
            assert a.sandbox.calls("water") == 0

            _, body = await b.query(
                FORCE, token=ops, variables={"agency": "water", "state": "AUTO"}
            )
            assert body["data"]["setCircuit"]["appliedTo"] == "FLEET"
            assert body["data"]["setCircuit"]["agency"]["forcedCircuit"] is None
            await _until(lambda: all(_water(gw) is CircuitState.CLOSED for gw in (a, b, c)), 1.0)
            for gw in (a, b, c):
                assert gw.app[CONNECTORS].water.breaker.forced is False

            water = await _water_source(c)
            assert water["state"] == "OK" and water["error"] is None
            assert a.sandbox.calls("water") >= 1


async def test_an_order_missed_by_pub_sub_is_read_at_the_next_resync(
    redis_url: str, namespace: str
) -> None:
    """The hash is the truth: an order stored while an instance heard nothing (its
    subscription down) is applied at its next resync."""
    async with running_gateway(probes={"enabled": False}) as gw:
        overrides = CircuitOverrides.for_redis_url(
            gw.app[CONNECTORS], redis_url, namespace=namespace, resync_s=0.2
        )
        async with redis_client(redis_url) as writer:
            try:
                await overrides.start()
                order = CircuitOrder(
                    "tax", CircuitState.OPEN, "ops-console", time.time(), CircuitScope.FLEET
                )
                key = f"{namespace}:circuit-overrides"
                await writer.hset(key, "tax", order.encode())  # no PUBLISH
                await _until(lambda: gw.app[CONNECTORS].tax.breaker.forced, 2.0)
                assert gw.app[CONNECTORS].tax.breaker.state is CircuitState.OPEN
                assert overrides.held("tax") == order
            finally:
                await overrides.stop()


async def test_with_redis_unreachable_an_order_holds_on_this_instance_and_says_so() -> None:
    async with running_gateway(probes={"enabled": False}) as gw:
        # A port nothing listens on: the write is refused at once.
        overrides = CircuitOverrides.for_redis_url(gw.app[CONNECTORS], "redis://127.0.0.1:1/0")
        try:
            assert overrides.scope is CircuitScope.FLEET
            order = await overrides.order("gas", CircuitState.OPEN, by="ops-console")
            assert order.scope is CircuitScope.INSTANCE
            assert gw.app[CONNECTORS].gas.breaker.state is CircuitState.OPEN
            assert overrides.held("gas") == order
        finally:
            await overrides.stop()


SCHEDULE = """mutation($startsAt: DateTime!, $endsAt: DateTime!) {
  scheduleMaintenance(agency: "post", startsAt: $startsAt, endsAt: $endsAt, note: "upgrade") {
    appliedTo window { startsAt } } }"""
CANCEL = """mutation($startsAt: DateTime!) {
  cancelMaintenance(agency: "post", startsAt: $startsAt) { appliedTo } }"""
ADDRESS = "{ me { address { city } } }"


async def test_a_maintenance_window_set_on_one_instance_holds_on_the_others(
    redis_url: str, namespace: str
) -> None:
    async with (
        running_gateway(
            redis_url=redis_url,
            cache_namespace=namespace,
            cache_key_secret="shared-by-every-instance",
            cache_timeout_s=2,
            response_cache="off",
            maintenance={"sync_s": 0.2},
        ) as a,
        another_instance(a) as b,
    ):
        ops = a.service_token("ops-console", ["ops"])
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        times = {"startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(hours=1)).isoformat()}
        _, body = await a.query(SCHEDULE, token=ops, variables=times)
        assert body["data"]["scheduleMaintenance"]["appliedTo"] == "FLEET", body
        starts = body["data"]["scheduleMaintenance"]["window"]["startsAt"]

        _, body = await b.query("{ agencies { id scheduledMaintenance { note } } }", token=ops)
        post = {x["id"]: x for x in body["data"]["agencies"]}["post"]
        assert post["scheduledMaintenance"] == [{"note": "upgrade"}]  # read from Redis

        held = await _until(lambda: b.app[MAINTENANCE].active("post") is not None, 1.0)
        print(f"instance B held post in maintenance {held * 1000:.0f} ms after A answered")
        a.sandbox.reset_calls()
        _, answer = await b.query(ADDRESS, token=b.token(PERSONAS["complete"]))
        assert answer["errors"][0]["extensions"]["code"] == "AGENCY_MAINTENANCE"
        assert a.sandbox.calls("post") == 0

        _, body = await b.query(CANCEL, token=ops, variables={"startsAt": starts})
        assert body["data"]["cancelMaintenance"]["appliedTo"] == "FLEET", body
        await _until(lambda: a.app[MAINTENANCE].active("post") is None, 1.0)
        _, answer = await a.query(ADDRESS, token=a.token(PERSONAS["sparse"]))
        assert "errors" not in answer, answer
        assert a.sandbox.calls("post") == 1


HEALTH = """{ agencies { id state incidents(first: 1) { id startedAt endedAt worst } } }"""
CHANGES = """subscription { agencyStateChanged(agency: "gas") { agency previous state } }"""


async def test_every_instance_answers_ops_with_the_fleet_s_state_and_incidents(
    redis_url: str, namespace: str
) -> None:
    async with (
        running_gateway(
            redis_url=redis_url,
            cache_namespace=namespace,
            cache_key_secret="shared-by-every-instance",
            cache_timeout_s=2,
            probes={"interval_s": 0.25, "timeout_s": 0.125},
        ) as a,
        another_instance(a) as b,
    ):
        ops = a.service_token("ops-dashboard", ["ops"])

        async def gas(gw: RunningGateway) -> dict[str, object]:
            _, body = await gw.query(HEALTH, token=ops)
            return {x["id"]: x for x in body["data"]["agencies"]}["gas"]

        async with graphql_socket(b.client, b.ws_url, token=ops) as socket:
            changes = await socket.subscribe(CHANGES)
            await asyncio.sleep(0.3)  # registered before the first change
            await a.sandbox.set_fault("gas", "down")
            change = (await changes.next(wait_s=6))["data"]["agencyStateChanged"]
            assert change["previous"] == "UP" and change["state"] in ("DOWN", "DEGRADED")

            async def both_down() -> bool:
                seen = [await gas(a), await gas(b)]
                return all(g["state"] == "DOWN" for g in seen) and seen[0] == seen[1]

            await _until_async(both_down, 6.0)
            [incident] = (await gas(b))["incidents"]
            assert incident["endedAt"] is None and incident["worst"] == "DOWN"

            await a.sandbox.clear_fault("gas")

            async def both_up() -> bool:
                seen = [await gas(a), await gas(b)]
                return all(g["state"] == "UP" for g in seen) and seen[0] == seen[1]

            await _until_async(both_up, 6.0)
            [closed] = (await gas(a))["incidents"]
            assert closed["id"] == incident["id"] and closed["endedAt"] is not None
            states = [change["state"]]
            while states[-1] != "UP":
                states.append((await changes.next(wait_s=6))["data"]["agencyStateChanged"]["state"])


async def _until_async(check: Callable[[], Awaitable[bool]], within_s: float) -> None:
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within_s:
            pytest.fail(f"not within {within_s} s")
        await asyncio.sleep(0.05)
