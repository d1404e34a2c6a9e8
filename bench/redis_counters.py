"""Reading what Redis, the gateway and the sandbox counted, for `python -m bench.redis_ops`.

    Snapshot      INFO commandstats / stats / memory, redis-server and gateway CPU, the gateway's
                  cache backend errors, the sandbox's calls per agency: cumulative, at one moment
    Delta         one snapshot less another: what a phase cost
    Monitor       MONITOR on its own connection: which subsystem sent each command
    key_memory    MEMORY USAGE of every key of a namespace, by key family

A phase's figures are deltas, so a Redis shared with anything else would count that too: the
tool runs its own redis-server.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis as SyncRedis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import ConnectionError as RedisConnectionError

from bench.processes import Child

__all__ = [
    "Delta",
    "Monitor",
    "Snapshot",
    "cache_backend_errors",
    "command_counts",
    "families",
    "family_of",
    "key_memory",
    "per_request",
    "snapshot",
    "wait_for_redis",
]


@dataclass
class Snapshot:
    """Cumulative counters at one moment."""

    at: float
    commands: Counter[str]
    net_in: int
    net_out: int
    used_memory: int
    redis_cpu_s: float
    gateway_cpu_s: float
    agency_calls: Counter[str]
    cache_errors: float

    def minus(self, before: Snapshot) -> Delta:
        return Delta(
            seconds=self.at - before.at,
            commands=Counter({k: n for k, n in (self.commands - before.commands).items() if n > 0}),
            net_in=self.net_in - before.net_in,
            net_out=self.net_out - before.net_out,
            used_memory=self.used_memory - before.used_memory,
            redis_cpu_s=self.redis_cpu_s - before.redis_cpu_s,
            gateway_cpu_s=self.gateway_cpu_s - before.gateway_cpu_s,
            agency_calls=Counter(
                {k: n for k, n in (self.agency_calls - before.agency_calls).items() if n > 0}
            ),
            cache_errors=self.cache_errors - before.cache_errors,
        )


@dataclass
class Delta:
    """What happened between two snapshots."""

    seconds: float
    commands: Counter[str]
    net_in: int
    net_out: int
    used_memory: int
    redis_cpu_s: float
    gateway_cpu_s: float
    agency_calls: Counter[str]
    cache_errors: float


def command_counts(info: Mapping[str, Any]) -> Counter[str]:
    """`INFO commandstats` as redis-py parses it (`{"cmdstat_get": {"calls": 12, …}}`) →
    `{"get": 12, …}`."""
    return Counter(
        {
            key.removeprefix("cmdstat_"): int(value["calls"])
            for key, value in info.items()
            if key.startswith("cmdstat_")
        }
    )


async def snapshot(
    redis: SyncRedis,
    children: Mapping[str, Child],
    session: aiohttp.ClientSession,
    urls: Mapping[str, str],
) -> Snapshot:
    async with session.get(f"{urls['admin']}/agencies") as response:
        agencies = await response.json()
    async with session.get(f"{urls['gateway']}/metrics") as response:
        metrics = await response.text()
    stats, memory = redis.info("stats"), redis.info("memory")
    return Snapshot(
        at=time.monotonic(),
        commands=command_counts(redis.info("commandstats")),
        net_in=int(stats["total_net_input_bytes"]),
        net_out=int(stats["total_net_output_bytes"]),
        used_memory=int(memory["used_memory"]),
        redis_cpu_s=children["redis"].cpu_seconds() or 0.0,
        gateway_cpu_s=children["gateway"].cpu_seconds() or 0.0,
        agency_calls=Counter({name: int(a["calls"]) for name, a in agencies.items()}),
        cache_errors=cache_backend_errors(metrics),
    )


def cache_backend_errors(exposition: str) -> float:
    """The gateway's `panjereh_cache_backend_errors_total`, all backends: a phase during which
    it grew was partly served from the in-memory fallback, so Redis saw fewer commands."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        if family.name == "panjereh_cache_backend_errors"
        for sample in family.samples
        if sample.name.endswith("_total")
    )


def family_of(args: Sequence[str], namespaces: Sequence[str], agencies: Sequence[str]) -> str:
    """Which subsystem a command served, from the first argument in one of our namespaces:
    `cap:tax:tax-record:<hmac>` → `agency-data`, `…:lease` → `lease`, `cap:response:…` →
    `response`, `cap:ratelimit/…` → `ratelimit`, and so on; `other` when no key is ours."""
    for arg in args[1:]:
        for namespace in namespaces:
            if not arg.startswith(namespace) or len(arg) == len(namespace):
                continue
            rest = arg[len(namespace) :]
            if rest[0] not in ":/":
                continue
            head = re.split(r"[:/]", rest[1:], maxsplit=1)[0]
            if head in agencies:
                return "lease" if arg.endswith(":lease") else "agency-data"
            return head or "other"
    return "other"


class Monitor:
    """MONITOR on its own connection, read in the background until `stop`: (client type,
    command) of everything Redis ran meanwhile, `lua` for commands a script ran."""

    def __init__(self, url: str) -> None:
        self._client = AsyncRedis.from_url(url)
        self._seen: list[tuple[str, str]] = []
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._read(), name="redis-monitor")

    async def _read(self) -> None:
        async with self._client.monitor() as monitor:
            self._ready.set()
            async for info in monitor.listen():
                self._seen.append((info["client_type"], info["command"]))

    async def started(self) -> None:
        await asyncio.wait_for(self._ready.wait(), 10)

    async def stop(self) -> list[tuple[str, str]]:
        await asyncio.sleep(0.2)  # the last commands' lines still on the wire
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._client.aclose()
        return self._seen


def families(
    seen: Iterable[tuple[str, str]], namespaces: Sequence[str], agencies: Sequence[str]
) -> Counter[str]:
    """`subsystem command` → how many, from what MONITOR saw; a command run by a script is the
    script's own, so only the EVAL counts (one round trip)."""
    counts: Counter[str] = Counter()
    for client_type, command in seen:
        args = command.split(" ")
        if client_type == "lua" or not args[0]:
            continue
        counts[f"{family_of(args, namespaces, agencies)} {args[0].lower()}"] += 1
    return counts


def per_request(delta: Delta, idle: Delta, requests: int) -> dict[str, Any]:
    """A phase's figures per request, with what the same seconds cost at rest taken off."""
    share = delta.seconds / idle.seconds if idle.seconds else 0.0

    def net(value: float, rest: float) -> float:
        return round(max(0.0, value - rest * share) / requests, 3)

    commands = {
        name: net(n, idle.commands.get(name, 0)) for name, n in sorted(delta.commands.items())
    }
    commands = {name: n for name, n in commands.items() if n > 0}
    calls = {
        name: net(n, idle.agency_calls.get(name, 0))
        for name, n in sorted(delta.agency_calls.items())
    }
    return {
        "requests": requests,
        "seconds": round(delta.seconds, 3),
        "redis_commands": round(sum(commands.values()), 3),
        "redis_commands_by_name": commands,
        "redis_bytes_in": net(delta.net_in, idle.net_in),
        "redis_bytes_out": net(delta.net_out, idle.net_out),
        "redis_cpu_ms": round(
            1000 * max(0.0, delta.redis_cpu_s - idle.redis_cpu_s * share) / requests, 4
        ),
        "gateway_cpu_ms": round(
            1000 * max(0.0, delta.gateway_cpu_s - idle.gateway_cpu_s * share) / requests, 3
        ),
        "agency_calls": round(sum(calls.values()), 3),
        "agency_calls_by_agency": {name: n for name, n in calls.items() if n > 0},
        "cache_backend_errors": delta.cache_errors,
        "redis_memory_bytes_added": round(delta.used_memory / requests),
    }


def wait_for_redis(redis: SyncRedis, child: Child) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(RedisConnectionError):
            if redis.ping():
                return
        if child.proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("the redis-server started for the measurement did not answer PING")


def key_memory(
    redis: SyncRedis, namespace: str, agencies: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Keys and `MEMORY USAGE` bytes per key family of the gateway's namespace (an agency's
    answers by its id), after the phases: what one citizen's answers hold in Redis. Streams
    (the audit copy) also count their entries, for the bytes one record takes."""
    table: dict[str, dict[str, Any]] = {}
    for raw in redis.scan_iter(match=f"{namespace}:*", count=1000):
        key = raw.decode()
        size = redis.memory_usage(key, samples=0)  # 0: every element of a stream, not a sample
        if size is None:  # expired since the scan (a "not found" entry, a lease)
            continue
        part = key.split(":")[1]
        family = part if part in agencies else re.split(r"[/]", part)[0]
        row = table.setdefault(family, {"keys": 0, "bytes": 0})
        row["keys"] += 1
        row["bytes"] += int(size)
        if redis.type(key) == b"stream":
            row["entries"] = row.get("entries", 0) + int(redis.xlen(key))
    return dict(sorted(table.items()))
