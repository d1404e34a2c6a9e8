"""Rate limits over real HTTP: a loop from one token, anonymous addresses, service clients,
Shahkar's paid lookups, Redis failing, and one budget held by two gateway processes on one Redis.

Windows are a minute long and each test sends its requests within seconds, so what is admitted
does not depend on timing; the defaults are exercised as shipped where the finding was about
them ("300 requests from one token in 0.22 s were all served", "ten requests made 640 Shahkar
calls in 1.6 s").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from auth.tokens import TokenIssuer
from bench.processes import Children, free_port, start_gateway
from ratelimits.config import CitizenLimits, ClientLimits, RateLimits
from sandbox import PERSONAS, Sandbox
from schema.error_codes import message_fa
from server import VIEW
from settings import Settings
from tests.redis_server import delete_namespace, redis_client, unique_namespace
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.redis_topologies import every_topology
from tests.support.websocket import graphql_socket

COMPLETE = PERSONAS["complete"]
SPARSE = PERSONAS["sparse"]
PROFILE = "{ me { profile { firstName } } }"
ANONYMOUS = "{ __typename }"


async def _post(
    gw: RunningGateway,
    query: str,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], dict[str, Any]]:
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    async with gw.client.post(
        f"{gw.url}/graphql", json={"query": query}, headers=all_headers
    ) as response:
        return response.status, dict(response.headers), await response.json()


def _assert_refused(status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
    assert status == 429
    retry_after = int(headers["Retry-After"])
    assert 1 <= retry_after <= 60
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "RATE_LIMITED",
        "retryable": True,
        "retryAfterSeconds": retry_after,
        "messageFa": message_fa({"code": "RATE_LIMITED", "retryAfterSeconds": retry_after}),
    }
    assert "دیگر دوباره تلاش کنید" in error["extensions"]["messageFa"]
    assert "data" not in body


async def _metric(gw: RunningGateway, kind: str, limit: str) -> float:
    async with gw.client.get(f"{gw.url}/metrics") as response:
        text = await response.text()
    prefix = f'panjereh_rate_limited_total{{kind="{kind}",limit="{limit}"}} '
    line = next(line for line in text.splitlines() if line.startswith(prefix))
    return float(line.removeprefix(prefix))


async def test_a_loop_from_one_token_is_refused_under_the_default_limits() -> None:
    async with running_gateway(rate_limits=RateLimits()) as gw:
        token = gw.token(COMPLETE)
        answers = await asyncio.gather(*(_post(gw, PROFILE, token=token) for _ in range(300)))
        served = [a for a in answers if a[0] == 200]
        refused = [a for a in answers if a[0] != 200]
        # At most a minute's budget (60), however fast or slow the loop ran.
        assert 1 <= len(served) <= 60, len(served)
        for answer in refused:
            _assert_refused(*answer)
        assert await _metric(gw, "citizen", "requests") == len(refused)
        # Another citizen is still served; health and metrics are not limited.
        status, _, body = await _post(gw, PROFILE, token=gw.token(SPARSE))
        assert status == 200 and body["data"]["me"]["profile"]["firstName"]
        for path in ("/healthz", "/metrics"):
            async with gw.client.get(f"{gw.url}{path}") as response:
                assert response.status == 200


async def test_a_citizen_gets_exactly_the_budget_and_refusals_do_no_graphql_work() -> None:
    limits = RateLimits(citizen=CitizenLimits(requests="5/minute"))
    async with running_gateway(rate_limits=limits) as gw:
        token = gw.token(COMPLETE)
        answers = await asyncio.gather(*(_post(gw, PROFILE, token=token) for _ in range(12)))
        assert sorted(a[0] for a in answers) == [200] * 5 + [429] * 7
        calls = gw.sandbox.calls("civil-registry")
        # Over budget, even a document that would not parse is refused before parsing.
        answer = await _post(gw, "{ this is not graphql", token=token)
        _assert_refused(*answer)
        assert gw.sandbox.calls("civil-registry") == calls


async def test_anonymous_callers_are_limited_per_address_and_a_forged_header_does_not_help() -> (
    None
):
    async with running_gateway(rate_limits=RateLimits(anonymous="3/minute")) as gw:
        for i in range(3):
            status, _, _ = await _post(gw, ANONYMOUS, headers={"X-Forwarded-For": f"192.0.2.{i}"})
            assert status == 200
        # 127.0.0.1 is not a trusted proxy here: X-Forwarded-For is ignored.
        answer = await _post(gw, ANONYMOUS, headers={"X-Forwarded-For": "198.51.100.77"})
        _assert_refused(*answer)
        assert await _metric(gw, "anonymous", "requests") == 1
        # A token is another budget (the citizen's own).
        status, _, _ = await _post(gw, PROFILE, token=gw.token(COMPLETE))
        assert status == 200


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() -> None:
    limits = RateLimits(anonymous="2/minute", trusted_proxies=["127.0.0.1"])
    async with running_gateway(rate_limits=limits) as gw:
        statuses = []
        for client in ("198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.2"):
            # The client forges a left-hand entry; the proxy appended the real address.
            header = {"X-Forwarded-For": f"6.6.6.6, {client}"}
            statuses.append((await _post(gw, ANONYMOUS, headers=header))[0])
        assert statuses == [200, 200, 429, 200]


async def test_service_clients_are_limited_per_client_id() -> None:
    limits = RateLimits(client=ClientLimits(requests="4/minute"))
    async with running_gateway(rate_limits=limits) as gw:
        first = gw.service_token("caseworker", ["ops"])
        second = gw.service_token("back-office", ["ops"])
        query = "{ agencies { id } }"
        statuses = [(await _post(gw, query, token=first))[0] for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        _assert_refused(*await _post(gw, query, token=first))
        assert (await _post(gw, query, token=second))[0] == 200
        assert await _metric(gw, "client", "requests") == 2


def _mobile_checks(count: int) -> str:
    checks = " ".join(
        f'm{i}: mobileCheck(mobile: "0912{i:07d}") {{ result }}' for i in range(count)
    )
    return f"{{ me {{ profile {{ firstName }} {checks} }} }}"


async def test_ten_requests_cannot_make_hundreds_of_shahkar_calls() -> None:
    async with running_gateway(rate_limits=RateLimits()) as gw:
        token = gw.token(COMPLETE)
        query = _mobile_checks(30)  # as many aliases as the query limits allow
        answers = await asyncio.gather(*(_post(gw, query, token=token) for _ in range(10)))
        budget = 10  # RateLimits().citizen.shahkar: 10/minute
        assert gw.sandbox.calls("shahkar") <= budget
        answered = 0
        for status, _, body in answers:
            assert status == 200
            me = body["data"]["me"]
            answered += sum(1 for key, value in me.items() if key.startswith("m") and value)
            for error in body["errors"]:
                assert error["extensions"]["code"] == "RATE_LIMITED"
                assert error["extensions"]["retryAfterSeconds"] >= 1
                assert error["path"][-1].startswith("m")  # only mobile checks failed
        assert answered == gw.sandbox.calls("shahkar") == budget
        assert await _metric(gw, "citizen", "shahkar") == 10 * 30 - budget


async def test_a_lookup_budget_fails_only_the_fields_over_it() -> None:
    limits = RateLimits(citizen=CitizenLimits(lookups="3/minute"))
    async with running_gateway(rate_limits=limits) as gw:
        sources = "sources { agency state error { code retryAfterSeconds } }"
        query = f"{{ me {{ profile {{ firstName }} address {{ city }} bills {{ {sources} }} }} }}"
        status, _, body = await _post(gw, query, token=gw.token(COMPLETE))
        assert status == 200
        me = body["data"]["me"]
        # Eight lookups (profile, address, six bill agencies) against a budget of three: three
        # are answered, and each of the others fails alone with RATE_LIMITED.
        fields = [me["profile"], me["address"]]
        parts = me["bills"]["sources"]
        assert sum(f is not None for f in fields) + sum(p["state"] == "OK" for p in parts) == 3
        for error in body.get("errors", []):
            assert error["extensions"]["code"] == "RATE_LIMITED", error
        failed_parts = [p for p in parts if p["state"] != "OK"]
        assert failed_parts and all(
            p["error"]["code"] == "RATE_LIMITED" and p["error"]["retryAfterSeconds"] >= 1
            for p in failed_parts
        )
        assert len(body.get("errors", [])) == sum(f is None for f in fields)


async def test_when_redis_fails_limits_are_kept_in_memory_not_dropped() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    limits = RateLimits(citizen=CitizenLimits(requests="3/minute"))
    async with running_gateway(rate_limits=limits, redis_url=dead) as gw:
        token = gw.token(COMPLETE)
        statuses = [(await _post(gw, PROFILE, token=token))[0] for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]


# -- two processes, one Redis ------------------------------------------------------------------

redis_url = every_topology()  # one budget across instances, on every topology


@asynccontextmanager
async def _namespace(redis_url: str) -> AsyncIterator[tuple[str, Any]]:
    namespace = unique_namespace().rstrip(":")
    async with redis_client(redis_url) as client:
        try:
            yield namespace, client
        finally:
            await delete_namespace(client, namespace)


@pytest.mark.redis
async def test_two_gateway_processes_on_one_redis_enforce_one_budget(redis_url: str) -> None:
    async with (
        Sandbox(host="127.0.0.1", latency_ms=(0, 0)) as sandbox,
        _namespace(redis_url) as (namespace, client),
        aiohttp.ClientSession() as session,
    ):
        env = {
            "PANJEREH_REDIS_URL": redis_url,
            "PANJEREH_CACHE_KEY_SECRET": "shared-by-both-instances",
            "PANJEREH_CACHE_NAMESPACE": namespace,
            "PANJEREH_RATE_LIMITS__CITIZEN__REQUESTS": "6/minute",
            # Two gateways, a sandbox and the client share two cores: a busy loop is not Redis
            # failing (which would count each instance apart).
            "PANJEREH_RATE_LIMITS__REDIS_TIMEOUT_S": "3",
            "PANJEREH_CACHE_TIMEOUT_S": "2",
        }
        with Children(log=print) as children:
            (_, first), (_, second) = await asyncio.gather(
                *(
                    asyncio.to_thread(start_gateway, children, sandbox.urls, name=name, env=env)
                    for name in ("first", "second")
                )
            )
            token = TokenIssuer.from_settings(Settings()).citizen(COMPLETE)

            async def ask(url: str) -> int:
                async with session.post(
                    f"{url}/graphql",
                    json={"query": PROFILE},
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    await response.read()
                    return response.status

            statuses = [await ask((first, second)[i % 2]) for i in range(16)]
            other = TokenIssuer.from_settings(Settings()).citizen(SPARSE)
            async with session.post(
                f"{second}/graphql",
                json={"query": PROFILE},
                headers={"Authorization": f"Bearer {other}"},
            ) as response:
                assert response.status == 200
        assert statuses.count(200) == 6, statuses
        assert statuses[:6] == [200] * 6  # both instances served until the shared budget ran out
        keys = [key.decode() async for key in client.scan_iter(match=f"{namespace}:ratelimit*")]
        assert keys, "the budget was not kept in Redis"
        assert not any(COMPLETE in key or SPARSE in key for key in keys)


async def test_operations_on_one_websocket_are_counted_like_requests() -> None:
    """One connection, many operations: each is counted, so a socket is no way around the
    request budget, and its agency lookups are spent from the same budget as over HTTP."""
    limits = RateLimits(citizen=CitizenLimits(requests="5/minute", shahkar="2/minute"))
    async with running_gateway(rate_limits=limits) as gw:
        async with graphql_socket(gw.client, gw.ws_url, token=gw.token(COMPLETE)) as socket:
            assert socket.acked
            results = [await socket.run(PROFILE) for _ in range(5)]
            cached = len(gw.app[VIEW].schema.document_cache)
            # Refused before the document is read: distinct documents are neither parsed nor
            # kept in the document cache.
            results += [
                await socket.run(f"{{ me {{ p{i}: profile {{ firstName }} }} }}") for i in range(3)
            ]
            served = [r for r in results if r.get("data")]
            refused = [r for r in results if not r.get("data")]
            assert len(served) == 5 and len(refused) == 3
            assert len(gw.app[VIEW].schema.document_cache) == cached
            for result in refused:
                (error,) = result["errors"]
                assert error["extensions"]["code"] == "RATE_LIMITED"
                assert error["extensions"]["retryAfterSeconds"] >= 1
        async with graphql_socket(gw.client, gw.ws_url, token=gw.token(SPARSE)) as socket:
            result = await socket.run(_mobile_checks(4))
            codes = [e["extensions"]["code"] for e in result.get("errors", [])]
            assert codes == ["RATE_LIMITED", "RATE_LIMITED"]
        assert gw.sandbox.calls("shahkar") == 2


async def test_refused_tokens_count_against_the_anonymous_budget() -> None:
    """Guessing tokens or spraying signatures is bounded like any anonymous request."""
    async with running_gateway(rate_limits=RateLimits(anonymous="3/minute")) as gw:
        answers = [await _post(gw, ANONYMOUS, token=f"x.y.{i}") for i in range(6)]
        assert [status for status, _, _ in answers] == [401] * 3 + [429] * 3
        _assert_refused(*answers[-1])
        status, _, _ = await _post(gw, ANONYMOUS)
        assert status == 429
        status, _, _ = await _post(gw, PROFILE, token=gw.token(COMPLETE))
        assert status == 200  # a valid token is counted as its citizen, not as the address
