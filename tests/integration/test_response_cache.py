"""The response cache over real HTTP: repeated queries answered from kept answers, never stale,
never another principal's, never built from a failed or stale part, audited every time, shared
through Redis, and absent when switched off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ratelimits.config import CitizenLimits, RateLimits
from sandbox import PERSONAS, FaultSpec
from schema.persisted.manifest import sha256_hex
from server import METRICS
from tests.integration.queries import HOME
from tests.redis_server import delete_namespace, redis_client, unique_namespace
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.redis_topologies import every_topology

A, B = PERSONAS["complete"], PERSONAS["sparse"]
AGED = "{ me { profile { firstName source { fetchedAt ageSeconds stale } } } }"

redis_url = every_topology()  # the tests sharing answers through Redis run on every topology


def _count(gw: RunningGateway, result: str) -> float:
    value = gw.app[METRICS].registry.get_sample_value(
        "panjereh_response_cache_total", {"result": result}
    )
    return value or 0.0


async def _ok(gw: RunningGateway, query: str, token: str, **kwargs: Any) -> dict[str, Any]:
    status, body = await gw.query(query, token=token, **kwargs)
    assert status == 200, body
    return body


async def test_a_repeated_query_is_answered_from_the_kept_answer() -> None:
    async with running_gateway() as gw:
        token = gw.token(A)
        first = await _ok(gw, HOME, token)
        assert "errors" not in first, first["errors"]
        assert _count(gw, "stored") == 1
        calls = gw.sandbox.calls("civil-registry")
        second = await _ok(gw, HOME, token)
        assert second == first
        assert _count(gw, "hit") == 1
        assert gw.sandbox.calls("civil-registry") == calls


async def test_a_kept_answer_reports_its_ages_as_of_now() -> None:
    async with running_gateway() as gw:
        token = gw.token(A)
        first = await _ok(gw, AGED, token)
        assert first["data"]["me"]["profile"]["source"]["ageSeconds"] == 0
        await asyncio.sleep(1.3)
        served = await _ok(gw, AGED, token)
        assert _count(gw, "hit") == 1
        source = served["data"]["me"]["profile"]["source"]
        fetched = dt.datetime.fromisoformat(source["fetchedAt"])
        assert fetched == dt.datetime.fromisoformat(
            first["data"]["me"]["profile"]["source"]["fetchedAt"]
        )
        exact = (dt.datetime.now(dt.UTC) - fetched).total_seconds()
        assert source["ageSeconds"] >= 1
        assert abs(source["ageSeconds"] - exact) <= 1.0


async def test_an_answer_is_not_kept_past_the_fresh_window_of_its_parts() -> None:
    policies = {"civil-registry": {"fresh_ttl": 1.5, "stale_ttl": 3600}}
    async with running_gateway(agency_policies=policies) as gw:
        token = gw.token(A)
        first = await _ok(gw, AGED, token)
        await _ok(gw, AGED, token)
        assert _count(gw, "hit") == 1
        await asyncio.sleep(1.7)
        third = await _ok(gw, AGED, token)
        assert _count(gw, "hit") == 1  # recomputed, not served
        before = first["data"]["me"]["profile"]["source"]["fetchedAt"]
        assert third["data"]["me"]["profile"]["source"]["fetchedAt"] > before


async def test_principals_never_share_an_answer() -> None:
    async with running_gateway() as gw:
        query = "{ me { nationalCode profile { firstName lastName } } }"
        a = await _ok(gw, query, gw.token(A))
        b = await _ok(gw, query, gw.token(B))
        assert a["data"]["me"]["nationalCode"] == A
        assert b["data"]["me"]["nationalCode"] == B
        assert _count(gw, "hit") == 0 and _count(gw, "stored") == 2
        # The same citizen at a lower level is another principal: the kept level-3 answer must
        # not reach a level-1 token, which may not read the profile.
        low = await _ok(gw, query, gw.token(A, acr=1))
        assert low["data"]["me"]["profile"] is None
        assert low["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert _count(gw, "hit") == 0


async def test_an_answer_with_a_failed_part_is_not_kept() -> None:
    async with running_gateway() as gw:
        token = gw.token(A)
        await gw.sandbox.set_fault("water", FaultSpec(mode="flaky", error_rate=1.0))
        partial = await _ok(gw, HOME, token)
        assert partial["data"]["me"]["bills"]["complete"] is False
        assert _count(gw, "stored") == 0 and _count(gw, "uncacheable") == 1
        await gw.sandbox.clear_fault("water")
        whole = await _ok(gw, HOME, token)
        assert whole["data"]["me"]["bills"]["complete"] is True
        assert _count(gw, "hit") == 0 and _count(gw, "stored") == 1


async def test_an_answer_with_parts_refused_by_the_lookup_budget_is_not_kept() -> None:
    """A list part refused by the caller's lookup budget is no GraphQL error (it is the part's
    status), but the answer is partial all the same: it must not be kept and served again."""
    query = "{ me { bills { complete sources { agency state } } } }"
    limits = RateLimits(citizen=CitizenLimits(lookups="3/minute"))
    async with running_gateway(rate_limits=limits) as gw:
        partial = await _ok(gw, query, gw.token(A))
        assert "errors" not in partial
        assert partial["data"]["me"]["bills"]["complete"] is False
        assert _count(gw, "stored") == 0 and _count(gw, "uncacheable") == 1


async def test_an_answer_with_a_stale_part_is_not_kept() -> None:
    policies = {"civil-registry": {"fresh_ttl": 0.5, "stale_ttl": 3600, "max_attempts": 1}}
    async with running_gateway(agency_policies=policies) as gw:
        token = gw.token(A)
        await _ok(gw, AGED, token)
        await asyncio.sleep(0.7)
        await gw.sandbox.set_fault("civil-registry", FaultSpec(mode="flaky", error_rate=1.0))
        stored = _count(gw, "stored")
        for _ in range(2):
            stale = await _ok(gw, AGED, token)
            assert stale["data"]["me"]["profile"]["source"]["stale"] is True
        assert _count(gw, "stored") == stored and _count(gw, "hit") == 0


async def test_switched_off_every_query_runs() -> None:
    async with running_gateway(response_cache="off") as gw:
        token = gw.token(A)
        for _ in range(3):
            await _ok(gw, HOME, token)
        assert _count(gw, "hit") == _count(gw, "stored") == _count(gw, "miss") == 0


async def test_rate_limits_apply_to_kept_answers() -> None:
    limits = RateLimits(citizen=CitizenLimits(requests="3/minute"))
    async with running_gateway(rate_limits=limits) as gw:
        token = gw.token(A)
        for _ in range(3):
            await _ok(gw, AGED, token)
        assert _count(gw, "hit") == 2
        status, body = await gw.query(AGED, token=token)
        assert status == 429, body


async def test_persisted_get_by_hash_is_answered_from_the_kept_answer() -> None:
    async with running_gateway() as gw:
        token = gw.token(A)
        ext = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(AGED)}}
        async with gw.client.post(
            f"{gw.url}/graphql",
            json={"query": AGED, "extensions": ext},
            headers={"Authorization": f"Bearer {token}"},
        ) as registered:
            assert registered.status == 200
        bodies, controls = [], []
        for _ in range(2):
            async with gw.client.get(
                f"{gw.url}/graphql",
                params={"extensions": json.dumps(ext)},
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                assert response.status == 200
                bodies.append(await response.json())
                controls.append((response.headers["Cache-Control"], response.headers["Vary"]))
        assert "errors" not in bodies[0] and bodies[0] == bodies[1]
        assert controls[0] == controls[1] == ("private, max-age=30", "Authorization, Accept")
        assert _count(gw, "hit") == 1  # the second GET: no GraphQL ran for it


async def _audit_records(path: Path, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        text = await asyncio.to_thread(lambda: path.read_text() if path.exists() else "")
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
        if len(records) >= count or time.monotonic() > deadline:
            return records
        await asyncio.sleep(0.05)


async def test_every_answer_is_audited_kept_or_not() -> None:
    async with running_gateway() as gw:
        token = gw.token(A)
        # Request ids a client may choose: no run of eight digits (observability/middleware).
        ids = [f"kept-or-not-{uuid.uuid4().hex[:6]}-{n}" for n in ("a", "b", "c")]
        for request_id in ids:
            await _ok(gw, AGED, token, headers={"X-Request-Id": request_id})
        assert _count(gw, "hit") == 2
        records = await _audit_records(Path(gw.settings.audit.path), 3)
        assert [r["request"] for r in records] == ids
        assert len({r["seq"] for r in records}) == 3
        first = records[0]
        for record in records[1:]:
            for key in ("subject", "actor", "access", "agencies", "fields", "outcome"):
                assert record[key] == first[key]
        assert first["outcome"] == "ok" and first["agencies"] == ["civil-registry"]


@asynccontextmanager
async def _shared_pair(
    redis_url: str, **settings: Any
) -> AsyncIterator[tuple[RunningGateway, RunningGateway]]:
    namespace = unique_namespace().rstrip(":")
    common = {
        "redis_url": redis_url,
        "cache_namespace": namespace,
        "cache_key_secret": "shared-secret-of-the-two-test-gateways",
        **settings,
    }
    async with redis_client(redis_url) as client:
        try:
            async with running_gateway(**common) as one, running_gateway(**common) as two:
                yield one, two
        finally:
            await delete_namespace(client, namespace)


async def test_kept_answers_are_shared_through_redis_encrypted(redis_url: str) -> None:
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64 of 32 bytes
    async with _shared_pair(redis_url, cache_encryption_key=key) as (one, two):
        # One token, valid at both (the instances share the development secret).
        token = one.token(A)
        first = await _ok(one, HOME, token)
        assert _count(one, "stored") == 1
        second = await _ok(two, HOME, token)
        assert second == first
        assert _count(two, "hit") == 1
        async with redis_client(redis_url) as client:
            namespace = one.settings.cache_namespace
            keys = [k async for k in client.scan_iter(match=f"{namespace}:response:*")]
            assert len(keys) == 1
            assert A.encode() not in keys[0]
            kept = await client.get(keys[0])
            name = first["data"]["me"]["profile"]["firstName"].encode()
            assert kept is not None and name not in kept
