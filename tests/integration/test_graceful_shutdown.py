"""SIGTERM to one gateway process, as production runs it (`python server.py serve`, production
mode, sandbox agencies in their own process, a real Redis): /readyz turns 503 at once, the
request in flight and one that arrives during the drain are both answered, a subscription is
closed with 1001, the process exits 0 within the grace and its audit records are on disk."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from multidict import CIMultiDict

from bench.processes import Children, start_sandbox
from sandbox import PERSONAS
from tests.redis_server import delete_namespace, unique_namespace
from tests.support.gateway_processes import GatewayProcess, ProductionFleet
from tests.support.websocket import graphql_socket

pytestmark = pytest.mark.redis

FAST = "{ me { profile { firstName } } }"
SLOW = "{ me { address { postalCode } } }"  # the post agency, made slow below
CHANGES = "subscription { agencyStateChanged { agency state } }"
SLOW_POST = {"mode": "slow", "latency_p50_ms": 1500, "latency_p99_ms": 1900}
GRACE_S = 10.0


def drain_settings(grace_s: float, quiet_s: float) -> dict[str, str]:
    """Every answer of the post agency asked for anew (never cached), so a slow query is slow
    each time; the response cache off for the same reason."""
    return {
        "PANJEREH_AGENCY_POLICIES": '{"post": {"fresh_ttl": 0, "stale_ttl": 0}}',
        "PANJEREH_RESPONSE_CACHE": "off",
        "PANJEREH_PROBES__TIMEOUT_S": "5",
        "PANJEREH_SHUTDOWN_GRACE_S": str(grace_s),
        "PANJEREH_SHUTDOWN_QUIET_S": str(quiet_s),
    }


@pytest.fixture
def sandbox() -> Iterator[tuple[dict[str, str], str]]:
    """`python -m sandbox` in its own process: its agencies' URLs and its admin URL."""
    with Children(print) as children:
        _, agencies, admin = start_sandbox(children, (0, 0))
        yield agencies, admin


@pytest.fixture
async def namespace(redis_url: str) -> AsyncIterator[str]:
    client = aioredis.from_url(redis_url)
    name = unique_namespace()
    try:
        yield name
    finally:
        await delete_namespace(client, name)
        await client.aclose()


async def set_fault(admin: str, agency: str, spec: dict[str, Any]) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.put(f"{admin}/agencies/{agency}/fault", json=spec) as response,
    ):
        assert response.status == 200, await response.text()


async def ask(
    client: aiohttp.ClientSession, url: str, query: str, token: str
) -> tuple[int, dict[str, Any], CIMultiDict[str]]:
    """POST a query; its status, body and headers."""
    async with client.post(
        f"{url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    ) as response:
        return response.status, await response.json(), response.headers.copy()


async def close_sent(ws: aiohttp.ClientWebSocketResponse, wait_s: float) -> int | None:
    """The code of the close frame the server sent (the client's own `close_code` turns 1006
    when its reply finds the connection already closed, which says nothing of the server)."""
    while True:
        message = await ws.receive(timeout=wait_s)
        if message.type is aiohttp.WSMsgType.CLOSE:
            return int(message.data)
        if message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return None


def drain_lines(gateway: GatewayProcess) -> tuple[dict[str, Any], dict[str, Any]]:
    """The drain's two log lines of the gateway's last run."""
    lines = [r for r in gateway.log_lines() if r.get("logger") == "panjereh.drain"]
    started = [r for r in lines if str(r.get("message", "")).startswith("drain started")]
    ended = [r for r in lines if str(r.get("message", "")).startswith("drain ended")]
    assert started and ended, gateway.log_tail()
    return started[-1], ended[-1]


async def test_sigterm_drains_in_flight_work_and_exits_cleanly(
    sandbox: tuple[dict[str, str], str], redis_url: str, namespace: str, tmp_path: Path
) -> None:
    agencies, admin = sandbox
    await set_fault(admin, "post", SLOW_POST)
    fleet = ProductionFleet(
        agencies, redis_url, namespace, tmp_path, settings=drain_settings(GRACE_S, 1.0)
    )
    gateway = fleet.instance("solo")
    try:
        await asyncio.to_thread(gateway.start)
        token = fleet.token(PERSONAS["complete"])
        ops = fleet.service_token("ops-dashboard", "ops")
        async with (
            aiohttp.ClientSession() as client,
            graphql_socket(client, gateway.url + "/graphql", token=ops) as socket,
        ):
            assert socket.acked
            await socket.subscribe(CHANGES)
            slow = asyncio.create_task(ask(client, gateway.url, SLOW, token))
            await asyncio.sleep(0.4)  # the slow request is at the post agency now
            assert not slow.done()

            gateway.terminate()
            signalled = time.monotonic()
            async with client.get(f"{gateway.url}/readyz") as response:
                readiness = response.status, await response.json()
            not_ready_after = time.monotonic() - signalled
            # Sent by a balancer that has not noticed yet: served, not refused.
            late = await ask(client, gateway.url, FAST, token)

            status, body, headers = await slow
            answered_after = time.monotonic() - signalled
            close_code = await close_sent(socket.ws, GRACE_S)
        code = await asyncio.to_thread(gateway.wait, GRACE_S + 10)
        exited_after = time.monotonic() - signalled
    finally:
        fleet.close()

    assert readiness == (503, {"status": "draining"}), readiness
    assert late[0] == 200 and late[1]["data"]["me"]["profile"]["firstName"], late
    assert status == 200 and "errors" not in body, body
    assert body["data"]["me"]["address"]["postalCode"]
    assert answered_after > 0.5  # it really was in flight at SIGTERM
    assert close_code == 1001
    assert code == 0, gateway.log_tail()
    assert exited_after < GRACE_S, gateway.log_tail()

    started, ended = drain_lines(gateway)
    assert started["in_flight"] >= 1, started
    assert ended["served"] >= 2 and ended["cut_off"] == 0, ended
    # The audit file has both reads: the writer was flushed before the process exited.
    requests = {record["request"] for record in gateway.audit_records()}
    assert headers["X-Request-Id"] in requests
    assert late[2]["X-Request-Id"] in requests
    print(
        f"\n/readyz 503 {not_ready_after * 1000:.0f} ms after SIGTERM; the slow request answered "
        f"{answered_after:.2f} s after it; exit 0 after {exited_after:.2f} s; drain: {ended}"
    )
