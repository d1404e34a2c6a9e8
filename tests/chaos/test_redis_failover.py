"""Redis loses its master under load, as production's would: a Cluster master, a Sentinel master.

    gateway (REDIS_URL = the topology, cache encryption on) ◀── citizens and a service, steady
      │                                                          load; /readyz polled
      ▼
    kill -9 the master (Cluster: the one serving the `<ns>:ping` slot that /readyz reads)
      ▼
    replica promoted (cluster-node-timeout / down-after-milliseconds tuned short)

What must hold: every request answers 200 without errors (served from memory while Redis is
away: `cache.fallback`), /readyz says `degraded` during the switch and `ready` after it, the
gateway writes to the new master afterwards (data cache, circuit orders, rate limits) and a
second instance, idle during the switch, holds the circuit order given on the first, and no
server of the topology, master or replica, holds a test citizen's national code or name in
plain text anywhere. The measured times are printed (run with `-s` to see them).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from connectors.pipeline.breaker import CircuitState
from sandbox import person_for, sample_national_codes
from server import CACHE, CIRCUITS, RATE_LIMITER
from tests.redis_server import redis_client, unique_namespace
from tests.support.gateway import RunningGateway, another_instance, running_gateway
from tests.support.redis_topologies import (
    RedisClusterSetup,
    RedisSentinelSetup,
    redis_cluster,
    redis_sentinel,
)

pytestmark = [pytest.mark.slow, pytest.mark.redis]

ENCRYPTION_KEY = base64.b64encode(b"failover-test-key-of-32-bytes!!!").decode()
ME = "{ me { nationalCode profile { firstName lastName fatherName } address { city street } } }"
READ = """query($nc: String!, $purpose: String!) {
  citizen(nationalCode: $nc, purpose: $purpose) {
    nationalCode profile { firstName lastName } bills { complete } } }"""
_KNOWN = [
    code
    for code in sample_national_codes(40)
    if person_for(code).known_to_registry and person_for(code).address is not None
]
CITIZENS = _KNOWN[:8]  # citizens the registry and the post office know: no error is expected
LATE_CITIZEN = _KNOWN[8]  # first asked after the failover
WORKERS = 6
LOAD_LIMIT_S = 60.0  # the load stops by itself whatever happens
READY_AGAIN_LIMIT_S = 30.0


@dataclass
class Timeline:
    """What the load and the /readyz poller saw, in seconds of the monotonic clock."""

    answers: list[tuple[float, int, bool]] = field(default_factory=list)  # (t, status, errors)
    failures: list[str] = field(default_factory=list)
    readiness: list[tuple[float, str]] = field(default_factory=list)

    def first_readiness(self, status: str, after: float) -> float | None:
        return next((t for t, s in self.readiness if s == status and t >= after), None)


@contextmanager
def _topology(kind: str) -> Iterator[RedisClusterSetup | RedisSentinelSetup]:
    with redis_cluster() if kind == "cluster" else redis_sentinel() as setup:
        yield setup


def _kill_master(setup: RedisClusterSetup | RedisSentinelSetup, ping_key: str) -> int:
    if isinstance(setup, RedisClusterSetup):
        return setup.kill_master_of(ping_key)
    return setup.kill_master()


def _wait_for_promotion(
    setup: RedisClusterSetup | RedisSentinelSetup, killed: int, ping_key: str
) -> float:
    if isinstance(setup, RedisClusterSetup):
        return setup.wait_for_promotion(killed, ping_key)
    return setup.wait_for_promotion(killed)


async def _load(gw: RunningGateway, tokens: dict[str, str], stop: asyncio.Event, seen: Timeline):
    """Steady traffic: citizens reading their own data, a service reading theirs."""
    service = gw.service_token("caseworker-app", ["citizen:read"])
    deadline = time.monotonic() + LOAD_LIMIT_S

    async def worker(n: int) -> None:
        i = n
        while not stop.is_set() and time.monotonic() < deadline:
            code = CITIZENS[i % len(CITIZENS)]
            if i % 3:
                status, body = await gw.query(ME, token=tokens[code])
            else:
                variables = {"nc": code, "purpose": "failover check"}
                status, body = await gw.query(READ, token=service, variables=variables)
            seen.answers.append((time.monotonic(), status, "errors" in body))
            if status != 200 or "errors" in body:
                seen.failures.append(f"{status}: {str(body)[:300]}")
            i += WORKERS
            await asyncio.sleep(0.01)

    await asyncio.gather(*(worker(n) for n in range(WORKERS)))


async def _poll_readiness(gw: RunningGateway, stop: asyncio.Event, seen: Timeline) -> None:
    deadline = time.monotonic() + LOAD_LIMIT_S
    while not stop.is_set() and time.monotonic() < deadline:
        async with gw.client.get(f"{gw.url}/readyz") as response:
            seen.readiness.append((time.monotonic(), (await response.json())["status"]))
        await asyncio.sleep(0.1)


async def _until_ready_again(seen: Timeline, killed_at: float, promoted_after: float) -> None:
    """Until /readyz said degraded, then ready after the promotion, and a second of load ran
    after that (or `READY_AGAIN_LIMIT_S` went by: the assertions then say what was missing)."""
    until = time.monotonic() + READY_AGAIN_LIMIT_S
    while time.monotonic() < until:
        back = seen.first_readiness("ready", killed_at + promoted_after)
        degraded = seen.first_readiness("degraded", killed_at)
        if degraded is not None and back is not None and time.monotonic() > back + 1.0:
            return
        await asyncio.sleep(0.1)  # polling what the load and the poller record


async def _until_held(instance: RunningGateway, order: Any, limit_s: float = 10.0) -> None:
    until = time.monotonic() + limit_s
    while instance.app[CIRCUITS].held(order.agency) != order:
        assert time.monotonic() < until, "the other instance never held the order"
        await asyncio.sleep(0.05)  # polling the instance's listener task


def _personal_data(bodies: list[dict[str, Any]]) -> set[bytes]:
    """Each national code and name the gateway answered with, as bytes to look for."""
    found: set[bytes] = {code.encode() for code in [*CITIZENS, LATE_CITIZEN]}
    for body in bodies:
        me = body["data"]["me"]
        for value in (*me["profile"].values(), me["address"]["street"]):
            if isinstance(value, str) and len(value) >= 3:
                found.add(value.encode())
    return found


def _plain_text_leaks(
    setup: RedisClusterSetup | RedisSentinelSetup, secrets: set[bytes]
) -> tuple[int, list[str]]:
    """How many keys every running server holds, and each place a secret shows in clear."""
    keys, leaks = 0, []
    for key, values in setup.all_keys_and_values():
        keys += 1
        for blob in (key, *values):
            leaks += [f"{key[:60]!r} holds {s.decode()!r}" for s in secrets if s in blob]
    return keys, leaks


@pytest.mark.parametrize("kind", ["cluster", "sentinel"])
async def test_losing_the_master_under_load_fails_no_request_and_leaks_nothing(kind: str) -> None:
    namespace = unique_namespace().rstrip(":")
    ping_key = f"{namespace}:ping"  # what /readyz reads (cache.store.CacheStore.ping)
    with _topology(kind) as setup:
        async with (
            running_gateway(
                redis_url=setup.url,
                cache_namespace=namespace,
                cache_encryption_key=ENCRYPTION_KEY,
                cache_key_secret="failover-test-secret",
            ) as gw,
            another_instance(gw) as second,
        ):
            tokens = {code: gw.token(code) for code in [*CITIZENS, LATE_CITIZEN]}
            bodies = []
            for code in CITIZENS:  # warm: every answer is in Redis before the master goes
                status, body = await gw.query(ME, token=tokens[code])
                assert status == 200 and "errors" not in body, body
                bodies.append(body)
            async with redis_client(setup.url) as client:
                pattern = f"{namespace}:civil-registry:*"
                stored_before = len([k async for k in client.scan_iter(match=pattern)])
            assert stored_before >= len(CITIZENS)

            seen, stop = Timeline(), asyncio.Event()
            load = asyncio.create_task(_load(gw, tokens, stop, seen))
            poller = asyncio.create_task(_poll_readiness(gw, stop, seen))
            try:
                await asyncio.sleep(1.5)
                killed_at = time.monotonic()
                killed = await asyncio.to_thread(_kill_master, setup, ping_key)
                promoted_after = await asyncio.to_thread(
                    _wait_for_promotion, setup, killed, ping_key
                )
                await _until_ready_again(seen, killed_at, promoted_after)
            finally:
                stop.set()
                await asyncio.gather(load, poller)

            degraded_at = seen.first_readiness("degraded", killed_at)
            ready_at = seen.first_readiness("ready", killed_at + promoted_after)
            during = [a for a in seen.answers if a[0] >= killed_at and (a[0] <= (ready_at or 0))]
            print(
                f"\n{kind}: master on port {killed} killed; replica promoted after "
                f"{promoted_after:.2f} s; /readyz degraded after "
                f"{(degraded_at or float('nan')) - killed_at:.2f} s, ready again after "
                f"{(ready_at or float('nan')) - killed_at:.2f} s; {len(seen.answers)} answers "
                f"({len(during)} during the switch), {len(seen.failures)} failed"
            )
            assert not seen.failures, seen.failures[:3]
            assert degraded_at is not None, "/readyz never said degraded"
            assert ready_at is not None, "/readyz never came back to ready"
            assert during, "no request was answered during the switch"

            # The gateway writes to the new master: a citizen first asked now is stored there,
            # an ops order is shared (FLEET), rate limits count in Redis again.
            status, body = await gw.query(ME, token=tokens[LATE_CITIZEN])
            assert status == 200 and "errors" not in body, body
            bodies.append(body)
            assert not getattr(gw.app[CACHE].backend, "degraded", False)
            async with redis_client(setup.url) as client:
                stored_after = len([k async for k in client.scan_iter(match=pattern)])
            assert stored_after > stored_before
            order = await gw.app[CIRCUITS].order("tax", CircuitState.OPEN, by="failover-test")
            assert order.scope.value == "FLEET"
            # ...and the other instance holds it too: its listener, cut off with the master
            # (Sentinel; on a Cluster when the channel's slot was the killed master's), found
            # the new one
            await _until_held(second, order)
            await gw.app[CIRCUITS].order("tax", None, by="failover-test")
            limiter = gw.app[RATE_LIMITER]
            assert limiter is not None and not limiter.windows.degraded

        # Nothing personal in clear on any server, master or replica, after all of it.
        keys, leaks = await asyncio.to_thread(_plain_text_leaks, setup, _personal_data(bodies))
        assert keys > len(CITIZENS), "the scan found (almost) nothing: it proves nothing"
        assert not leaks, leaks[:5]
