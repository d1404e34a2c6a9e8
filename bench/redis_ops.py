"""`python -m bench.redis_ops`: what each kind of request costs Redis and the agencies, counted.

The capacity model (bench/capacity.py, docs/capacity.md) needs Redis commands per request and
agency calls per request, and those are counted here rather than read off the code: every
subsystem that shares state (data cache and its singleflight leases, response cache, rate
limits, audit stream and access index, health book, probes, circuit overrides, maintenance)
adds its own commands, and they change as the code does.

    load (this process) ──▶ gateway ──▶ sandbox agencies (latency 0)
                               └──▶ private redis-server (its counters ours alone)

The gateway runs as in production except that the citizen rate limits are raised, keeping
their shape (the same windows, so the same Redis commands per request): one persona sends
hundreds of requests; and the bound on one Redis call is raised (`PATIENT_ENV`). Each phase
sends `--requests` requests, `--concurrency` at a time, and is read as the difference of
`INFO commandstats`, `INFO stats` (bytes), the CPU of the redis-server and of the gateway, and
the sandbox's call counters across it, less what the same time costs at rest (`idle`, measured
first: probes, health book, followers). A second pass of the same phases runs under `MONITOR`
to say which subsystem sent each command (by key family); it is kept apart because MONITOR
costs Redis CPU.

Phases (`me` is the full citizen query, `home` the home screen, tests/integration/queries.py):

    me-cold / home-cold   a citizen never seen before on every request: every agency asked
    me-hot / home-hot     the complete persona, the same body: response-cache hits
    me-warm / home-warm   the complete persona, each body with an extra variable of its own: a
                          response-cache miss, the query executed from cached agency data (the
                          document from the parser's cache), the answer kept
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from redis import Redis as SyncRedis

from bench.load import error_kind
from bench.processes import HOST, ROOT, Children, free_port, start_gateway, start_sandbox
from bench.redis_counters import (
    Monitor,
    families,
    key_memory,
    per_request,
    snapshot,
    wait_for_redis,
)

if str(ROOT) not in sys.path:  # the queries and the Redis finder live in tests/ (not installed)
    sys.path.insert(0, str(ROOT))

PHASES = ("me-cold", "me-hot", "me-warm", "home-cold", "home-hot", "home-warm")
NAMESPACE = "cap"
# The default limits' shape (two request windows, one lookup window, one Shahkar window) with
# values no benchmark reaches: Redis sees the same commands, nothing is refused.
LIMITS_ENV = {
    "PANJEREH_RATE_LIMITS__CITIZEN__REQUESTS": "1000000/minute;1000000/second",
    "PANJEREH_RATE_LIMITS__CITIZEN__LOOKUPS": "10000000/minute",
    "PANJEREH_RATE_LIMITS__CITIZEN__SHAHKAR": "1000000/minute",
}
# Bounds on one Redis call raised from 0.25 s: on a busy shared machine a process is sometimes
# not scheduled for that long, the call counts as a Redis failure, and the next 2 s of calls go
# to memory, so Redis would see too few commands. What is sent does not depend on the bound.
PATIENT_ENV = {
    "PANJEREH_CACHE_TIMEOUT_S": "3",
    "PANJEREH_RATE_LIMITS__REDIS_TIMEOUT_S": "3",
    "PANJEREH_HEALTH__REDIS_TIMEOUT_S": "3",
}
MOBILE = "09121234567"  # the complete persona's own number, as in `python -m bench`


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- what is sent ----------------------------------------------------------------------------


def _body(query: str, variables: Mapping[str, str] | None, tag: int | None = None) -> bytes:
    """The request body; with a `tag`, an extra variable the query does not declare (ignored
    by GraphQL, part of the response-cache key): the same document, parsed and validated from
    the caches, but a response-cache miss."""
    document: dict[str, Any] = {"query": query}
    extra = {} if tag is None else {"tag": str(tag)}
    if variables or extra:
        document["variables"] = {**(variables or {}), **extra}
    return json.dumps(document).encode()


@dataclass
class Requests:
    """The bodies and tokens of one phase, one per request, built before the phase starts."""

    url: str
    items: list[tuple[bytes, dict[str, str]]]


class Citizens:
    """Tokens of citizens never used before in the run, and the complete persona's."""

    def __init__(self) -> None:
        from auth.tokens import TokenIssuer
        from sandbox import PERSONAS, sample_national_codes
        from settings import Settings

        self._issuer = TokenIssuer.from_settings(Settings())
        self._sample = sample_national_codes
        self._used = 0
        self.complete = self._headers(PERSONAS["complete"])

    def _headers(self, code: str) -> dict[str, str]:
        token = self._issuer.citizen(code)
        return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def fresh(self, count: int) -> list[dict[str, str]]:
        codes = self._sample(self._used + count)[self._used :]
        self._used += count
        return [self._headers(code) for code in codes]


def phase_requests(phase: str, count: int, urls: Mapping[str, str], citizens: Citizens) -> Requests:
    from tests.integration.queries import HOME, ME

    query, variables = (ME, {"mobile": MOBILE}) if phase.startswith("me") else (HOME, None)
    url = f"{urls['gateway']}/graphql"
    if phase.endswith("cold"):
        body = _body(query, variables)
        return Requests(url, [(body, headers) for headers in citizens.fresh(count)])
    if phase.endswith("hot"):
        body = _body(query, variables)
        return Requests(url, [(body, citizens.complete)] * count)
    tag = int(time.time() * 1000)  # distinct from every earlier pass's bodies
    return Requests(
        url, [(_body(query, variables, tag + n), citizens.complete) for n in range(count)]
    )


async def send(
    session: aiohttp.ClientSession, requests: Requests, concurrency: int
) -> tuple[float, Counter[str]]:
    """Every request, `concurrency` at a time; the seconds taken and the error kinds seen
    (NOT_FOUND of generated citizens included: they are answers, counted apart later)."""
    errors: Counter[str] = Counter()
    queue = iter(requests.items)

    async def worker() -> None:
        for body, headers in queue:
            async with session.post(requests.url, data=body, headers=headers) as response:
                text = await response.read()
            if response.status != 200:
                errors[f"HTTP {response.status}"] += 1
                continue
            for error in json.loads(text).get("errors") or []:
                errors[error_kind(error)] += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.monotonic() - started, errors


# --- the run ---------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from sandbox import AGENCY_IDS

    citizens = Citizens()
    load_before = os.getloadavg()
    from tests.redis_server import find_redis_server  # PATH, else a package that ships one

    binary = find_redis_server()
    if binary is None:
        raise RuntimeError("no redis-server found (on PATH, or in a package that ships one)")
    with Children(log) as children, contextlib.ExitStack() as stack:
        port = free_port()
        redis_child = children.start(
            "redis",
            [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        )
        redis_url = f"redis://{HOST}:{port}/0"
        redis = stack.enter_context(SyncRedis.from_url(redis_url))
        wait_for_redis(redis, redis_child)
        log(f"redis-server on {port}; starting sandbox and gateways")
        _, agencies, admin = start_sandbox(children, (0, 0))
        env = {
            "REDIS_URL": redis_url,
            "PANJEREH_CACHE_NAMESPACE": NAMESPACE,
            **LIMITS_ENV,
            **PATIENT_ENV,
        }
        gateway, url = start_gateway(children, agencies, env=env)
        urls = {"gateway": url, "admin": admin}
        procs = {"redis": redis_child, "gateway": gateway}
        timeout = aiohttp.ClientTimeout(total=60)
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            for phase in ("me-hot", "home-hot"):
                await _prime(session, phase, urls, citizens)
            await asyncio.sleep(1.0)
            log(f"idle: {args.idle_s:g} s with no requests")
            before = await snapshot(redis, procs, session, urls)
            await asyncio.sleep(args.idle_s)
            idle = (await snapshot(redis, procs, session, urls)).minus(before)
            figures: dict[str, Any] = {}
            errors: dict[str, dict[str, int]] = {}
            for phase in PHASES:
                requests = phase_requests(phase, args.requests, urls, citizens)
                await _prime(session, phase, urls, citizens)
                log(f"{phase}: {args.requests} requests, {args.concurrency} at a time")
                before = await snapshot(redis, procs, session, urls)
                _, seen = await send(session, requests, args.concurrency)
                delta = (await snapshot(redis, procs, session, urls)).minus(before)
                figures[phase] = per_request(delta, idle, args.requests)
                errors[phase] = dict(seen.most_common())
                if phase == "me-cold":  # before any other citizen is in the cache
                    memory = key_memory(redis, NAMESPACE, AGENCY_IDS)
            log("the same phases again under MONITOR, to say which subsystem sent what")
            monitored: dict[str, dict[str, float]] = {}
            for phase in PHASES:
                count = args.monitor_requests
                requests = phase_requests(phase, count, urls, citizens)
                await _prime(session, phase, urls, citizens)
                monitor = Monitor(redis_url)
                await monitor.started()
                await send(session, requests, args.concurrency)
                seen_families = families(await monitor.stop(), [NAMESPACE], AGENCY_IDS)
                monitored[phase] = {
                    name: round(n / count, 3) for name, n in sorted(seen_families.items())
                }
    return {
        "idle_per_second": {
            "redis_commands": round(sum(idle.commands.values()) / idle.seconds, 3),
            "redis_commands_by_name": {
                name: round(n / idle.seconds, 3) for name, n in sorted(idle.commands.items())
            },
            "redis_cpu_ms": round(1000 * idle.redis_cpu_s / idle.seconds, 3),
            "agency_calls": round(sum(idle.agency_calls.values()) / idle.seconds, 3),
            "gateway_cpu_ms": round(1000 * idle.gateway_cpu_s / idle.seconds, 3),
        },
        "phases": figures,
        "monitored_per_request": monitored,
        "errors": errors,
        "redis_memory_after_me_cold": {
            "citizens": args.requests + 1,  # me-cold's and the complete persona
            "by_family": memory,
        },
        "parameters": {
            "requests": args.requests,
            "monitor_requests": args.monitor_requests,
            "concurrency": args.concurrency,
            "idle_s": args.idle_s,
            "sandbox_latency_ms": [0, 0],
            "environment": {**LIMITS_ENV, **PATIENT_ENV},
        },
        "load_average": {"start": load_before, "end": os.getloadavg()},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


async def _prime(
    session: aiohttp.ClientSession, phase: str, urls: Mapping[str, str], citizens: Citizens
) -> None:
    """Before a hot or warm phase, the complete persona's answer and agency data fresh in the
    cache (the earlier phases may have outlasted the response cache's 30 s)."""
    if not phase.endswith("cold"):
        hot = phase.replace("warm", "hot")
        await send(session, phase_requests(hot, 2, urls, citizens), 1)


def _summary(report: Mapping[str, Any]) -> Iterator[str]:
    head = (
        f"{'phase':<10} {'redis cmds':>10} {'bytes in':>9} {'bytes out':>9} {'redis cpu ms':>12} "
        f"{'gateway cpu ms':>14} {'agency calls':>12}"
    )
    yield head
    yield "-" * len(head)
    for phase, row in report["phases"].items():
        yield (
            f"{phase:<10} {row['redis_commands']:>10.2f} {row['redis_bytes_in']:>9.0f} "
            f"{row['redis_bytes_out']:>9.0f} {row['redis_cpu_ms']:>12.3f} "
            f"{row['gateway_cpu_ms']:>14.2f} {row['agency_calls']:>12.2f}"
        )
    for phase, row in report["phases"].items():
        if row["cache_backend_errors"]:
            yield (
                f"warning: {phase} had {row['cache_backend_errors']:.0f} failed Redis calls (the "
                "gateway served from memory meanwhile): its Redis figures are low"
            )
    idle = report["idle_per_second"]
    yield (
        f"at rest: {idle['redis_commands']:.1f} commands/s and {idle['agency_calls']:.2f} agency "
        f"calls/s for one gateway"
    )
    for phase, row in report["phases"].items():
        commands = ", ".join(f"{k} {v:g}" for k, v in row["redis_commands_by_name"].items())
        yield f"{phase}: {commands}"
    for phase, row in report["monitored_per_request"].items():
        yield f"{phase} by subsystem: " + ", ".join(f"{k} {v:g}" for k, v in row.items())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.redis_ops",
        description="Count Redis commands, bytes and CPU, and agency calls, per kind of request.",
    )
    parser.add_argument("--requests", type=int, default=400, help="per phase (default 400)")
    parser.add_argument(
        "--monitor-requests", type=int, default=50, help="per phase under MONITOR (default 50)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="at a time (default 8: with more on a busy two-core machine, Redis calls pass the "
        "gateway's bound and fall back to memory, which counts too few)",
    )
    parser.add_argument(
        "--idle-s", type=float, default=15.0, help="seconds measured at rest (default 15)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures")
    return parser


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], None] = print) -> int:
    args = _parser().parse_args(argv)
    if min(args.requests, args.monitor_requests, args.concurrency) < 1 or args.idle_s <= 0:
        log("--requests, --monitor-requests and --concurrency must be >= 1, --idle-s > 0")
        return 2
    report = asyncio.run(run(args))
    for line in _summary(report):
        out(line)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
