"""A closed-loop HTTP load generator: N workers, a warm-up, then a fixed measured window.

Closed loop (each worker sends its next request when the previous one is answered) because the
question is "how many requests a second can one gateway process answer", not "what happens
beyond saturation". Throughput counts the requests that complete inside the measured window;
each of those has its latency recorded (no sampling), so p99 is exact. A request is an error if
the transport fails, the status is not 200, or the body has a GraphQL `errors` key (a partial
answer is still an error here: the benchmark must not quietly measure failures as speed). A
scenario that provokes failures on purpose (an agency outage) passes its own `judge`, which says
which errors it expects (tolerated, counted apart) and how the failing agency's part was served.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

__all__ = [
    "Judge",
    "Probe",
    "Result",
    "Tally",
    "Target",
    "Verdict",
    "error_kind",
    "judge_strict",
    "measure",
]

# Where the CPU went during the measured window: name → cumulative CPU seconds (or None).
Probe = Callable[[], float | None]
# A cumulative count read over the network (e.g. the sandbox's calls to one agency), or None.
Tally = Callable[[], Awaitable[float | None]]


@dataclass(frozen=True)
class Verdict:
    """What one answered request means for the scenario.

    `unexpected` error kinds make the request an error; `tolerated` ones were expected by the
    scenario and are only counted; `part` names how an outage scenario's agency part was served
    (`missing`, `stale`, `fresh`), None outside outage scenarios.
    """

    unexpected: tuple[str, ...] = ()
    tolerated: tuple[str, ...] = ()
    part: str | None = None


# Judges a decoded GraphQL answer (a dict with `data` and maybe `errors`).
Judge = Callable[[dict[str, Any]], Verdict]


def judge_strict(document: dict[str, Any]) -> Verdict:
    """The default: every GraphQL error is an error, listed as `CODE(agency)`."""
    errors = document.get("errors") or []
    return Verdict(unexpected=tuple(sorted({error_kind(e) for e in errors})))


@dataclass(frozen=True)
class Target:
    """What one scenario sends: a POST of a fixed body, with headers chosen per request.

    The body is encoded once so the load generator spends its CPU on HTTP, not on JSON; only the
    headers may change per request (me-cold: a different citizen's token every time). A `GET`
    target (the status page) sends no body and expects `html`: any 200 with a body is a success.
    """

    url: str
    body: bytes
    headers: Callable[[], Mapping[str, str]]
    judge: Judge = judge_strict
    method: str = "POST"
    html: bool = False


@dataclass
class Result:
    """One scenario's figures; latencies are in milliseconds."""

    scenario: str
    duration_s: float
    requests: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    error_kinds: Counter[str] = field(default_factory=Counter)
    error_sample: str | None = None
    tolerated: int = 0  # requests whose only errors were expected ones (not in `errors`)
    tolerated_kinds: Counter[str] = field(default_factory=Counter)
    parts: Counter[str] = field(default_factory=Counter)
    cpu_percent: dict[str, float | None] = field(default_factory=dict)
    counters: dict[str, float | None] = field(default_factory=dict)
    unfinished: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile (q in 0..100) over every request of the window."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "rps": round(self.rps, 1),
            "p50_ms": _round(self.percentile(50)),
            "p99_ms": _round(self.percentile(99)),
            "duration_s": self.duration_s,
            "error_kinds": dict(self.error_kinds.most_common()),
            "error_sample": self.error_sample,
            "tolerated": self.tolerated,
            "tolerated_kinds": dict(self.tolerated_kinds.most_common()),
            "parts": dict(self.parts.most_common()),
            "cpu_percent": {k: _round(v) for k, v in self.cpu_percent.items()},
            "counters": self.counters,
            "unfinished": self.unfinished,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def measure(
    scenario: str,
    target: Target,
    *,
    concurrency: int,
    duration_s: float,
    warmup_s: float,
    probes: Mapping[str, Probe] | None = None,
    counters: Mapping[str, Tally] | None = None,
    request_timeout_s: float = 30.0,
) -> Result:
    """Run `concurrency` workers for `warmup_s` + `duration_s` seconds; figures for the window.

    `probes` are sampled at the window's start and end, giving each probed process's CPU use as a
    percentage of one core during the window: this tells whether the server, the sandbox or the
    load generator itself was the bottleneck. `counters` are read at the same two moments and
    their differences kept in `Result.counters` (e.g. upstream calls made during the window).
    """
    result = Result(scenario, duration_s)
    # One connection per worker, kept alive: the gateway's mobile clients reuse connections too.
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=request_timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        clock = time.perf_counter
        start = clock()
        window_start, window_end = start + warmup_s, start + warmup_s + duration_s

        async def worker() -> None:
            while clock() < window_end:
                began = clock()
                verdict, sample = await _send(session, target)
                done = clock()
                if window_start <= done <= window_end:
                    result.requests += 1
                    result.latencies_ms.append((done - began) * 1000)
                    if verdict.part is not None:
                        result.parts[verdict.part] += 1
                    if verdict.unexpected:
                        result.errors += 1
                        result.error_kinds.update(verdict.unexpected)
                        result.error_sample = result.error_sample or sample
                    elif verdict.tolerated:
                        result.tolerated += 1
                    result.tolerated_kinds.update(verdict.tolerated)

        async def sample_cpu() -> None:
            wall = clock
            await asyncio.sleep(max(0.0, window_start - wall()))
            before = _sample(probes or {})
            t0 = wall()
            counted = await _count(counters or {})
            await asyncio.sleep(max(0.0, window_end - wall()))
            after = _sample(probes or {})
            elapsed = wall() - t0
            for name, value in (await _count(counters or {})).items():
                first = counted.get(name)
                result.counters[name] = None if value is None or first is None else value - first
            for name, value in after.items():
                first = before.get(name)
                result.cpu_percent[name] = (
                    None
                    if value is None or first is None or elapsed <= 0
                    else 100 * (value - first) / elapsed
                )

        tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
        sampler = asyncio.create_task(sample_cpu())
        try:
            # In-flight requests at the window's end get a grace period, then are abandoned.
            grace = min(request_timeout_s, 10.0)
            _, pending = await asyncio.wait(tasks, timeout=window_end - clock() + grace)
            result.unfinished = len(pending)
            await sampler
        finally:
            for task in [*tasks, sampler]:
                task.cancel()
            await asyncio.gather(*tasks, sampler, return_exceptions=True)
    return result


def _sample(probes: Mapping[str, Probe]) -> dict[str, float | None]:
    return {name: probe() for name, probe in probes.items()}


async def _count(counters: Mapping[str, Tally]) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    for name, counter in counters.items():
        try:
            values[name] = await counter()
        except Exception:  # whatever went wrong, the count is unknown ("-"), never zero
            values[name] = None
    return values


async def _send(session: aiohttp.ClientSession, target: Target) -> tuple[Verdict, str | None]:
    """One request: the scenario's verdict on it, and a short sample of what was wrong if the
    verdict lists unexpected errors."""
    try:
        async with session.request(
            target.method, target.url, data=target.body or None, headers=target.headers()
        ) as resp:
            payload = await resp.read()
            status = resp.status
        document = json.loads(payload) if status == 200 and not target.html else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return Verdict(unexpected=(type(exc).__name__,)), repr(exc)[:300]
    raw = payload[:300].decode("utf-8", "replace")
    if status != 200:
        return Verdict(unexpected=(f"HTTP {status}",)), raw
    if target.html:
        return (Verdict(), None) if payload else (Verdict(unexpected=("empty body",)), raw)
    return _judged(target, document, raw)


def _judged(target: Target, document: Any, raw: str) -> tuple[Verdict, str | None]:
    """The scenario's verdict on a decoded GraphQL answer."""
    if not isinstance(document, dict):
        return Verdict(unexpected=("no data",)), raw
    verdict = target.judge(document)
    if verdict.unexpected:
        unexpected = set(verdict.unexpected)
        errors = document.get("errors") or []
        shown = next((e for e in errors if error_kind(e) in unexpected), None)
        return verdict, raw if shown is None else json.dumps(shown, ensure_ascii=False)[:300]
    if document.get("data") is None:
        return Verdict(unexpected=("no data",)), raw
    return verdict, None


def error_kind(error: Any) -> str:
    """`CODE` or `CODE(agency)` from a GraphQL error's extensions, for the error breakdown."""
    extensions = error.get("extensions") if isinstance(error, dict) else None
    if not isinstance(extensions, dict):
        return "graphql error without code"
    code = str(extensions.get("code", "NO_CODE"))
    agency = extensions.get("agency")
    return f"{code}({agency})" if agency else code
