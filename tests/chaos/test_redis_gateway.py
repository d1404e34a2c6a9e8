"""The gateway on a real Redis: singleflight across processes, and Redis dying mid-traffic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from auth.tokens import TokenIssuer
from bench.processes import Children, start_gateway
from sandbox import PERSONAS, Sandbox, sample_national_codes
from settings import Settings
from tests.redis_server import delete_namespace, redis_client, throwaway_redis, unique_namespace
from tests.support.gateway import running_gateway
from tests.support.redis_topologies import every_topology

redis_url = every_topology()  # cross-process singleflight, on every topology

pytestmark = [pytest.mark.slow, pytest.mark.redis]

QUERY = "{ me { profile { firstName } bills { complete items { kind } } } }"
SINGLE_CALL_AGENCIES = ("civil-registry", "water", "electricity", "gas", "telecom", "tax")


def _gateway_env(redis_url: str, namespace: str) -> dict[str, str]:
    return {
        "PANJEREH_REDIS_URL": redis_url,
        "PANJEREH_CACHE_KEY_SECRET": "shared-by-both-instances",
        "PANJEREH_CACHE_NAMESPACE": namespace,
        # Two gateways, a sandbox and the client share two cores here: a loaded event loop must
        # not be mistaken for a slow Redis.
        "PANJEREH_CACHE_TIMEOUT_S": "2",
        # Fifty requests from one token in a moment are a load test here, not abuse.
        "PANJEREH_RATE_LIMITS__ENABLED": "false",
    }


@asynccontextmanager
async def _namespace(redis_url: str) -> AsyncIterator[str]:
    namespace = unique_namespace().rstrip(":")
    async with redis_client(redis_url) as client:
        try:
            yield namespace
        finally:
            await delete_namespace(client, namespace)


async def test_two_gateway_processes_share_one_upstream_call_per_agency(redis_url: str) -> None:
    async with (
        Sandbox(host="127.0.0.1", latency_ms=(150, 150)) as sandbox,
        _namespace(redis_url) as namespace,
        aiohttp.ClientSession() as client,
    ):
        env = _gateway_env(redis_url, namespace)
        with Children(log=print) as children:
            (_, first), (_, second) = await asyncio.gather(
                *(
                    asyncio.to_thread(start_gateway, children, sandbox.urls, name=name, env=env)
                    for name in ("first", "second")
                )
            )
            issuer = TokenIssuer.from_settings(Settings())
            token = issuer.citizen(PERSONAS["complete"])
            headers = {"Authorization": f"Bearer {token}"}
            # One request each first, for another citizen: a client on a cold Redis connection
            # pool (a Sentinel's master is looked up per connection) can take longer than the
            # cache's bound under a burst, and fall back to memory. What is tested is the lease
            # between two running gateways, not their first connections.
            warm = {"Authorization": f"Bearer {issuer.citizen(PERSONAS['sparse'])}"}
            for url in (first, second):
                async with client.post(
                    f"{url}/graphql", json={"query": QUERY}, headers=warm
                ) as response:
                    assert response.status == 200
            sandbox.reset_calls()

            async def ask(url: str) -> dict:
                async with client.post(
                    f"{url}/graphql", json={"query": QUERY}, headers=headers
                ) as response:
                    assert response.status == 200
                    return await response.json()

            bodies = await asyncio.gather(*(ask((first, second)[i % 2]) for i in range(50)))
        failed = [body["errors"] for body in bodies if "errors" in body]
        assert not failed, failed[0]
        names = {body["data"]["me"]["profile"]["firstName"] for body in bodies}
        assert len(names) == 1
        for agency in SINGLE_CALL_AGENCIES:
            assert sandbox.calls(agency) == 1, f"{agency}: {sandbox.calls(agency)} calls"


async def test_redis_dying_mid_traffic_never_fails_a_request() -> None:
    with throwaway_redis() as (url, server):
        async with running_gateway(redis_url=url, cache_namespace="chaos") as gw:
            citizens = sample_national_codes(30)

            async def ask(code: str) -> dict:
                status, body = await gw.query(QUERY, token=gw.token(code))
                assert status == 200
                return body

            for code in citizens[:10]:
                assert (await ask(code))["data"]["me"]["bills"]["complete"] is True
            async with gw.client.get(f"{gw.url}/readyz") as response:
                assert (await response.json())["status"] == "ready"

            server.kill()
            bodies = await asyncio.gather(*(ask(code) for code in citizens[10:20]))
            for body in bodies:
                assert body["data"]["me"]["bills"]["complete"] is True
            async with gw.client.get(f"{gw.url}/readyz") as response:
                assert (await response.json())["status"] == "degraded"

            # Answers cached while Redis was away are served from memory.
            calls = gw.sandbox.calls("water")
            await asyncio.gather(*(ask(code) for code in citizens[10:20]))
            assert gw.sandbox.calls("water") == calls

            server.restart()
            await asyncio.sleep(2.2)  # the fallback's retry interval
            for code in citizens[20:30]:
                assert (await ask(code))["data"]["me"]["bills"]["complete"] is True
            async with gw.client.get(f"{gw.url}/readyz") as response:
                assert (await response.json()) == {"status": "ready", "cache": "redis"}
