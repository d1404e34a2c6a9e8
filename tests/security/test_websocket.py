"""GraphQL over WebSocket (graphql-transport-ws) holds the same rules as HTTP.

Each test is a finding of the attack review: the token was checked only at connection, an expired
token kept reading `me`, the 8 s deadline ran from the connection's start, errors had no `code`,
and mutations ran over the socket. Real gateway, real aiohttp WebSocket client, loopback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from sandbox import PERSONAS, FaultSpec
from server import CONNECTORS
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.websocket import graphql_socket

COMPLETE = PERSONAS["complete"]
PROFILE = "{ me { profile { firstName } } }"


@pytest.fixture
async def gateway() -> AsyncIterator[RunningGateway]:
    async with running_gateway() as gw:
        yield gw


def codes(result: dict) -> list[str]:
    return [error["extensions"]["code"] for error in result.get("errors", [])]


async def test_a_token_in_connection_init_or_the_header_reads_me(gateway: RunningGateway) -> None:
    token = gateway.token(COMPLETE)
    async with graphql_socket(gateway.client, gateway.ws_url, token=token) as socket:
        assert socket.acked
        result = await socket.run(PROFILE)
        assert result["data"]["me"]["profile"]["firstName"]
    async with graphql_socket(gateway.client, gateway.ws_url, header_token=token) as socket:
        result = await socket.run(PROFILE)
        assert result["data"]["me"]["profile"]["firstName"]


async def test_an_invalid_token_is_refused_at_connection(gateway: RunningGateway) -> None:
    forged = gateway.token(COMPLETE)[:-4] + "AAAA"
    async with graphql_socket(gateway.client, gateway.ws_url, token=forged) as socket:
        assert not socket.acked
        assert socket.ws.close_code == 4403


async def test_an_expiring_token_closes_the_connection_and_reads_nothing_after(
    gateway: RunningGateway,
) -> None:
    token = gateway.token(COMPLETE, ttl_s=2)
    async with graphql_socket(gateway.client, gateway.ws_url, token=token) as socket:
        result = await socket.run(PROFILE)
        assert result["data"]["me"]["profile"]["firstName"]
        started = time.monotonic()
        assert await socket.wait_closed(wait_s=10) == 4401
        assert time.monotonic() - started < 5
        with pytest.raises((ConnectionError, RuntimeError)):
            await socket.run(PROFILE, wait_s=2)


async def test_mutations_are_refused(gateway: RunningGateway) -> None:
    ops = gateway.service_token("ops-dashboard", ["ops"])
    mutation = 'mutation { setCircuit(agency: "water", state: OPEN) { appliedTo } }'
    async with graphql_socket(gateway.client, gateway.ws_url, token=ops) as socket:
        result = await socket.run(mutation)
        assert codes(result) == ["FORBIDDEN"]
        assert "HTTP POST" in result["errors"][0]["message"]
        status = await socket.run("{ agencies { id circuitForced } }")
        assert status["data"]["agencies"]  # queries still run on the same connection
    assert gateway.app[CONNECTORS].water.breaker.forced is False


async def test_errors_carry_their_code(gateway: RunningGateway) -> None:
    async with graphql_socket(gateway.client, gateway.ws_url) as anonymous:
        assert codes(await anonymous.run(PROFILE)) == ["UNAUTHENTICATED"]
    token = gateway.token(COMPLETE)
    async with graphql_socket(gateway.client, gateway.ws_url, token=token) as socket:
        result = await socket.run('{ me { mobileCheck(mobile: "1") { matches } } }')
        assert codes(result) == ["INVALID_INPUT"]
        assert result["errors"][0]["extensions"]["field"] == "mobile"
        assert codes(await socket.run("{ me { nope } }")) == ["GRAPHQL_VALIDATION_FAILED"]
        low = gateway.token(COMPLETE, acr=1)
    async with graphql_socket(gateway.client, gateway.ws_url, token=low) as socket:
        result = await socket.run("{ me { records { tax { status } } } }")
        assert codes(result) == ["FORBIDDEN"]
        assert result["errors"][0]["extensions"]["requiredLevel"] == 3


async def test_the_deadline_starts_with_each_operation() -> None:
    async with running_gateway(request_deadline_s=1.0) as gw:
        token = gw.token(COMPLETE)
        async with graphql_socket(gw.client, gw.ws_url, token=token) as socket:
            await asyncio.sleep(1.5)  # longer than the deadline, before any operation
            result = await socket.run(PROFILE)
            assert result["data"]["me"]["profile"]["firstName"], result
            await gw.sandbox.set_fault("post", FaultSpec(mode="hang"))
            started = time.monotonic()
            result = await socket.run("{ me { address { city } } }")
            assert codes(result) == ["AGENCY_TIMEOUT"]
            assert time.monotonic() - started < 4  # the operation's own 1 s deadline held


async def test_the_legacy_protocol_refuses_a_bad_token_too(gateway: RunningGateway) -> None:
    async with gateway.client.ws_connect(gateway.ws_url, protocols=["graphql-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": "Bearer x"}})
        message = await ws.receive_json(timeout=10)
        assert message["type"] == "connection_error"
        assert message["payload"]["extensions"]["code"] == "UNAUTHENTICATED"
