"""SIGTERM to one gateway process, as production runs it (`python server.py serve`, production
mode, sandbox agencies in their own process, a real Redis): /readyz turns 503 at once, the
request in flight and one that arrives during the drain are both answered, a subscription is
closed with 1001, the process exits 0 within the grace and its audit records are on disk."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from sandbox import PERSONAS
from tests.support.gateway_processes import (  # noqa: F401 (fixtures)
    FAST,
    SLOW,
    SLOW_POST,
    ProductionFleet,
    citizens_with_an_address,
    drain_lines,
    drain_settings,
    sandbox_process,
    set_fault,
)
from tests.support.websocket import graphql_socket

pytestmark = pytest.mark.redis

CHANGES = "subscription { agencyStateChanged { agency state } }"
GRACE_S = 10.0


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
        [slow_citizen] = citizens_with_an_address(1)
        ops = fleet.service_token("ops-dashboard", "ops")
        async with (
            aiohttp.ClientSession() as client,
            graphql_socket(client, gateway.url + "/graphql", token=ops) as socket,
        ):
            assert socket.acked
            await socket.subscribe(CHANGES)
            slow = asyncio.create_task(ask(client, gateway.url, SLOW, fleet.token(slow_citizen)))
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

    [(started, ended)] = drain_lines(gateway)
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
