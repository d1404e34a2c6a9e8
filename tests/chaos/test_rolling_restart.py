"""A rolling restart behind a real load balancer drops nothing.

Two gateway processes as production runs them (`python server.py serve`, production mode, a
shared Redis, sandbox agencies in their own process) behind HAProxy on loopback, which checks
`/readyz` and retries only what never reached a gateway (tests/load_balancer.py). Under steady
load (citizens asking `me` of the civil registry, and slow requests to a post agency that takes
1.5 s to answer) each instance in turn gets SIGTERM, exits, starts again and is taken back by
the balancer. Every request must be answered 200 with data and without errors, the slow ones in
flight at each SIGTERM included, and every read must be in an instance's audit file at the end.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox import PERSONAS, sample_national_codes
from tests.load_balancer import BACKENDS, HAProxy, require_haproxy
from tests.support.gateway_processes import (  # noqa: F401 (fixtures)
    FAST,
    SLOW,
    SLOW_POST,
    GatewayProcess,
    ProductionFleet,
    citizens_with_an_address,
    drain_lines,
    drain_settings,
    sandbox_process,
    set_fault,
)

pytestmark = [pytest.mark.slow, pytest.mark.redis]

GRACE_S = 15.0
QUIET_S = 1.0
FAST_WORKERS = 4
SLOW_WORKERS = 2
PINNED_PER_RESTART = 4  # half through each backend


@dataclass
class Answer:
    kind: str
    backend: str
    started: float
    ended: float
    status: int | None
    served_by: str | None = None
    request_id: str | None = None
    problem: str | None = None
    """Why this answer is a failure, None when it is not."""


@dataclass
class Load:
    """Requests through the balancer, each one recorded: `fast` ones from a few citizens, slow
    ones each for a citizen of its own (`fleet.token` signs a token for it)."""

    urls: dict[str, str]
    """Backend → its frontend's URL (tests/load_balancer.py)."""
    fleet: ProductionFleet
    client: aiohttp.ClientSession
    fast_citizens: list[str]
    slow_citizens: Iterator[str]
    answers: list[Answer] = field(default_factory=list)
    running: bool = True

    async def one(
        self, kind: str, backend: str, citizen: str | None = None, *, pin: str | None = None
    ) -> Answer:
        query = SLOW if kind != "fast" else FAST
        citizen = citizen or next(self.slow_citizens)
        headers = {"Authorization": f"Bearer {self.fleet.token(citizen)}"}
        if pin:
            headers["X-Pin"] = pin
        started = time.monotonic()
        try:
            async with self.client.post(
                f"{self.urls[backend]}/graphql", json={"query": query}, headers=headers
            ) as response:
                text = await response.text()
                try:
                    body = json.loads(text)
                except ValueError:
                    body = text  # e.g. the balancer's own error page
                answer = Answer(
                    kind,
                    backend,
                    started,
                    time.monotonic(),
                    response.status,
                    response.headers.get("X-Served-By"),
                    response.headers.get("X-Request-Id"),
                    _problem(response.status, body),
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            answer = Answer(kind, backend, started, time.monotonic(), None, problem=repr(exc))
        self.answers.append(answer)
        return answer

    async def worker(self, kind: str, number: int) -> None:
        """Requests one after the other, through the backends in turn (per worker)."""
        citizen = self.fast_citizens[number % len(self.fast_citizens)] if kind == "fast" else None
        backends = list(self.urls)
        sent = number
        while self.running:
            await self.one(kind, backends[sent % len(backends)], citizen)
            sent += 1
            if kind == "fast":
                await asyncio.sleep(0.02)


def _problem(status: int, body: Any) -> str | None:
    if status != 200:
        return f"HTTP {status}: {str(body)[:200]}"
    if not isinstance(body, dict) or not body.get("data") or not body["data"].get("me"):
        return f"no data: {str(body)[:200]}"
    if body.get("errors"):
        codes = [e.get("extensions", {}).get("code") for e in body["errors"]]
        return f"errors {codes}"
    return None


async def _restart(gateway: GatewayProcess, balancer: HAProxy, load: Load) -> dict[str, Any]:
    """SIGTERM with slow requests pinned to `gateway` in flight, wait for the exit, start it
    again, wait until the balancer takes it back; what was measured."""
    pinned = [
        asyncio.create_task(load.one("pinned", backend, pin=gateway.name))
        for backend in BACKENDS
        for _ in range(PINNED_PER_RESTART // len(BACKENDS))
    ]
    await asyncio.sleep(0.4)  # at the (slow) post agency by now
    signalled = time.monotonic()
    gateway.terminate()
    code = await asyncio.to_thread(gateway.wait, GRACE_S + 10)
    stopped_s = time.monotonic() - signalled
    started_s = await asyncio.to_thread(gateway.start)
    back_s = await asyncio.to_thread(balancer.wait_state, gateway.name, "UP")
    return {
        "instance": gateway.name,
        "exit": code,
        "stop_s": round(stopped_s, 2),
        "start_s": round(started_s, 2),
        "back_in_balancer_s": round(back_s, 2),
        "pinned": [await task for task in pinned],
        "signalled": signalled,
    }


async def test_rolling_restart_behind_haproxy_fails_no_request(
    sandbox: tuple[dict[str, str], str], redis_url: str, namespace: str, tmp_path: Path
) -> None:
    binary = require_haproxy()
    agencies, admin = sandbox
    await set_fault(admin, "post", SLOW_POST)
    fleet = ProductionFleet(
        agencies, redis_url, namespace, tmp_path, settings=drain_settings(GRACE_S, QUIET_S)
    )
    instances = [fleet.instance("g1"), fleet.instance("g2")]
    balancer: HAProxy | None = None
    restarts: list[dict[str, Any]] = []
    try:
        for gateway in instances:
            await asyncio.to_thread(gateway.start)
        balancer = HAProxy(binary, {g.name: g.port for g in instances}, workdir=tmp_path)
        for gateway in instances:
            await asyncio.to_thread(balancer.wait_state, gateway.name, "UP")
        fast = [PERSONAS["complete"], *sample_national_codes(7)]
        slow = iter(citizens_with_an_address(200))
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as client:
            load = Load(balancer.urls, fleet, client, fast, slow)
            workers = [
                *(asyncio.create_task(load.worker("fast", n)) for n in range(FAST_WORKERS)),
                *(asyncio.create_task(load.worker("slow", n)) for n in range(SLOW_WORKERS)),
            ]
            try:
                await asyncio.sleep(2)
                for gateway in instances:
                    restarts.append(await _restart(gateway, balancer, load))
                await asyncio.sleep(2)
            finally:
                load.running = False
                await asyncio.gather(*workers)
        for gateway in instances:  # a last clean stop: every audit buffer on disk
            gateway.terminate()
            assert await asyncio.to_thread(gateway.wait, GRACE_S + 10) == 0
    finally:
        if balancer is not None:
            balancer.close()
        fleet.close()

    answers = load.answers
    failures = [a for a in answers if a.problem is not None]
    by_kind = {k: sum(a.kind == k for a in answers) for k in ("fast", "slow", "pinned")}
    by_backend = {b: sum(a.backend == b for a in answers) for b in BACKENDS}
    failed_by_backend = {b: sum(a.backend == b for a in failures) for b in BACKENDS}
    by_server = {g.name: sum(a.served_by == g.name for a in answers) for g in instances}
    summary = [{k: v for k, v in r.items() if k not in ("pinned", "signalled")} for r in restarts]
    print(
        f"\n{len(answers)} requests through haproxy ({by_kind}; by instance {by_server}; "
        f"by backend {by_backend}), failed by backend {failed_by_backend}; restarts: {summary}"
    )
    for gateway in instances:
        for started, ended in drain_lines(gateway):
            print(f"  {gateway.name}: {started['message']}\n  {gateway.name}: {ended['message']}")
    assert not failures, failures[:10]
    assert all(by_server.values()), by_server  # both instances served

    for restart in restarts:
        assert restart["exit"] == 0, restart
        assert restart["stop_s"] < GRACE_S, restart
        # The slow requests in flight on the instance at its SIGTERM finished there, and well.
        for answer in restart["pinned"]:
            assert answer.served_by == restart["instance"], answer
            assert answer.started < restart["signalled"] < answer.ended, answer
    for gateway in instances:
        drains = drain_lines(gateway)
        assert len(drains) == gateway.starts == 2, gateway.log_tail()
        restart_drain, last_drain = drains
        # Its restart: the pinned requests at least were in flight; nothing was cut off.
        assert restart_drain[0]["in_flight"] >= PINNED_PER_RESTART, restart_drain
        assert restart_drain[1]["cut_off"] == last_drain[1]["cut_off"] == 0, drains

    audited = {r["request"] for g in instances for r in g.audit_records()}
    unaudited = [a for a in answers if a.request_id not in audited]
    assert not unaudited, unaudited[:10]
