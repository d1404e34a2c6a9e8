"""The gateway on a real Redis: singleflight across processes, and Redis dying mid-traffic."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from auth.tokens import TokenIssuer
from sandbox import PERSONAS, Sandbox, sample_national_codes
from settings import Settings
from tests.redis_server import delete_namespace, throwaway_redis, unique_namespace
from tests.support.gateway import running_gateway

pytestmark = [pytest.mark.slow, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
QUERY = "{ me { profile { firstName } bills { complete items { kind } } } }"
SINGLE_CALL_AGENCIES = ("civil-registry", "water", "electricity", "gas", "telecom", "tax")


def _token(code: str) -> str:
    s = Settings()
    return TokenIssuer(s.jwt_secret.get_secret_value(), s.jwt_issuer, s.jwt_audience).citizen(code)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _gateway_process(urls: dict[str, str], redis_url: str, namespace: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PANJEREH_CACHE_KEY_SECRET": "shared-by-both-instances",
        "PANJEREH_CACHE_NAMESPACE": namespace,
        # Two gateways, a sandbox and the client share two cores here: a loaded event loop must
        # not be mistaken for a slow Redis.
        "PANJEREH_CACHE_TIMEOUT_S": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "server.py", "--port", str(port), "--agency-urls", json.dumps(urls),
         "--redis-url", redis_url, "--log-level", "WARNING"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _wait_ready(client: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with client.get(f"{url}/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"gateway at {url} never became ready")


@asynccontextmanager
async def _namespace(redis_url: str) -> AsyncIterator[str]:
    namespace = unique_namespace().rstrip(":")
    client = aioredis.from_url(redis_url)
    try:
        yield namespace
    finally:
        await delete_namespace(client, namespace)
        await client.aclose()


async def test_two_gateway_processes_share_one_upstream_call_per_agency(redis_url: str) -> None:
    async with (
        Sandbox(host="127.0.0.1", latency_ms=(150, 150)) as sandbox,
        _namespace(redis_url) as namespace,
        aiohttp.ClientSession() as client,
    ):
        urls = sandbox.urls
        with (
            _gateway_process(urls, redis_url, namespace) as first,
            _gateway_process(urls, redis_url, namespace) as second,
        ):
            await asyncio.gather(_wait_ready(client, first), _wait_ready(client, second))
            headers = {"Authorization": f"Bearer {_token(PERSONAS['complete'])}"}

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
