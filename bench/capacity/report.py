"""The capacity plan as text tables an ops lead can read, and as JSON for scripts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from bench.capacity.values import QUERIES, TEMPERATURES, Inputs, Plan

__all__ = ["as_json", "lines"]


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> Iterator[str]:
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    yield fmt.format(*head)
    yield "  ".join("-" * w for w in widths)
    for row in rows:
        yield fmt.format(*row)


def lines(
    plan: Plan, inputs: Inputs, measured_doc: Mapping[str, Any], cpu_source: str = "bench"
) -> Iterator[str]:
    a, m, p = inputs.assumed, inputs.measured, plan.peak
    yield "PEAK (assumed factors on the seeds' figures)"
    yield (
        f"  {a.peak_month_transactions:,.0f} transactions in the peak month "
        f"({p.peak_month_ratio:.2f}× an average month of {a.annual_transactions:,.0f}/12)"
    )
    yield (
        f"  × {a.requests_per_transaction:g} requests each ÷ {a.days_in_peak_month:g} days = "
        f"{_n(p.average_day)} requests on an average day"
    )
    yield (
        f"  × {a.peak_day_factor:g} peak day = {_n(p.peak_day)}; × {a.peak_hour_share:g} in its "
        f"busiest hour = {_n(p.peak_hour)}/h"
    )
    yield f"  ÷ 3600 × {a.burst_factor:g} burst = {_n(p.rps)} requests/s at peak"
    yield ""
    yield (f"COST PER REQUEST (measured; gateway CPU from {cpu_source}) and the assumed mix")
    rows = []
    for q in QUERIES:
        for t in TEMPERATURES:
            c = m.costs[f"{q}-{t}"]
            share = a.query_share[q] * a.temperature_share[t]
            rows.append(
                (
                    f"{q}-{t}",
                    f"{share:.1%}",
                    _n(c.gateway_cpu_ms, 2),
                    _n(c.redis_cpu_ms, 3),
                    _n(c.redis_round_trips, 1),
                    _n(c.redis_commands, 1),
                    _n(c.redis_bytes),
                    _n(sum(c.agency_calls.values()), 1),
                )
            )
    rows.append(
        (
            "mix",
            "100%",
            _n(plan.cpu_ms, 2),
            _n(plan.redis_cpu_ms, 3),
            _n(plan.redis_round_trips, 1),
            _n(plan.redis_commands, 1),
            _n(plan.redis_bytes),
            _n(sum(x.calls_per_request for x in plan.agencies), 2),
        )
    )
    head = ("kind", "share", "CPU ms", "Redis CPU ms", "Redis trips", "Redis cmds", "Redis B",
            "agency calls")  # fmt: skip
    yield from (f"  {line}" for line in _table(head, rows))
    yield ""
    yield "GATEWAY"
    yield (
        f"  {_n(p.rps)} req/s × {plan.cpu_ms:.2f} ms ÷ ({a.cpu_target_utilisation:.0%} target × "
        f"{a.worker_efficiency:g} worker efficiency) = {plan.cores:.1f} cores"
    )
    yield (
        f"  → {plan.pods} pods of {a.cores_per_pod} cores (one worker per core, at least "
        f"{a.min_pods}): {plan.processes} gateway processes"
    )
    yield ""
    yield "REDIS"
    yield (
        f"  {_n(plan.redis_round_trips_per_s)} round trips/s, {_n(plan.redis_commands_per_s)} "
        f"commands/s executed (at rest: {m.idle_redis_commands_per_s:g}/s per process), "
        f"{plan.redis_bytes_per_s / 1e6:,.1f} MB/s"
    )
    yield (
        f"  CPU: {plan.redis_cores:.2f} cores of Redis main thread ÷ "
        f"{a.redis_target_utilisation:.0%} target = {plan.redis_shards_cpu} shard(s)"
    )
    kept = "stale" if a.redis_keeps_stale_windows else "fresh"
    answers = (
        plan.redis_answers_stale_bytes if a.redis_keeps_stale_windows
        else plan.redis_answers_fresh_bytes
    )  # fmt: skip
    yield (
        f"  memory: agency answers for their {kept} windows {answers / 1e9:,.1f} GB (for their "
        f"fresh windows only: {plan.redis_answers_fresh_bytes / 1e9:,.1f} GB; stale: "
        f"{plan.redis_answers_stale_bytes / 1e9:,.1f} GB)"
    )
    yield (
        f"    + audit streams {plan.redis_audit_bytes / 1e9:,.1f} GB ({plan.processes} processes × "
        f"{inputs.limits.audit_stream_maxlen:,} records × "
        f"{m.redis_bytes_per_audit_record:,.0f} B, never evicted) + response cache "
        f"{plan.redis_responses_bytes / 1e9:,.1f} GB"
    )
    yield (
        f"    = {plan.redis_memory_bytes / 1e9:,.1f} GB ÷ {a.redis_shard_memory_bytes / 1e9:g} GB "
        f"a shard = {plan.redis_shards_memory} shard(s)"
    )
    yield (
        f"  → {plan.redis_shards} master shard(s), each with a replica "
        f"({2 * plan.redis_shards} Redis nodes)"
    )
    yield ""
    yield (
        f"AGENCIES at peak (latency assumed {a.agency_latency_s:g} s; bulkhead per process; "
        "'latency limit': the latency at which the bulkhead fills before the CPU does)"
    )
    rows = [
        (
            x.agency,
            _n(x.calls_per_request, 3),
            _n(x.calls_per_s, 1),
            _n(x.per_process_per_s, 2),
            _n(x.in_flight_per_process, 1),
            str(x.bulkhead),
            "-" if x.calls_per_request == 0 else f"{x.latency_limit_s:.1f} s",
            f"{x.redis_bytes / 1e9:,.1f}",
        )
        for x in sorted(plan.agencies, key=lambda x: -x.calls_per_s)
    ]
    head = ("agency", "calls/req", "calls/s", "per process/s", "in flight", "bulkhead",
            "latency limit", "Redis GB")  # fmt: skip
    yield from (f"  {line}" for line in _table(head, rows))
    yield ""
    yield "WHAT RUNS OUT FIRST (requests/s each resource lets through)"
    rows = [(x.resource, x.scope, _n(x.rps)) for x in sorted(plan.limits, key=lambda x: x.rps)]
    yield from (f"  {line}" for line in _table(("resource", "scope", "req/s"), rows))
    first = plan.first_bottleneck
    yield f"  first bottleneck of a process: {first.resource} at {_n(first.rps)} req/s"
    yield (
        f"  planned load of a process at peak: {_n(plan.peak.rps / plan.processes)} req/s; "
        f"of a Redis shard: {_n(plan.peak.rps / plan.redis_shards)} req/s"
    )
    short = [x for x in plan.limits if x.scope == "fleet" and x.rps < plan.peak.rps]
    for x in sorted(short, key=lambda x: x.rps):
        yield f"  below the peak, fleet-wide: {x.resource} allows {_n(x.rps)} req/s"
    yield ""
    yield from _outage_lines(plan, inputs)
    yield ""
    yield "SOURCES of the measured figures (bench/capacity/measured.toml)"
    for name, source in measured_doc.get("sources", {}).items():
        yield f"  {name}: {source.get('date', '?')}: {source.get('command', '?')}"
        if source.get("conditions"):
            yield f"    {source['conditions']}"


def _outage_lines(plan: Plan, inputs: Inputs) -> Iterator[str]:
    a, o = inputs.assumed, plan.outage
    policy = inputs.limits.policies[o.agency]
    normal = {x.agency: x.calls_per_s for x in plan.agencies}
    yield (
        f"OUTAGE: {o.agency} fails for longer than its fresh window, at peak "
        f"(timeout {policy.timeout:g} s, {policy.max_attempts} attempts, bulkhead "
        f"{policy.max_concurrent}, breaker opens at {policy.breaker.failure_rate:.0%} of "
        f"≥ {policy.breaker.min_calls} calls, open {policy.breaker.open_s:g} s)"
    )
    hit = ", ".join(o.queries_hit) or "none"
    yield (
        f"  queries that need {o.agency}: {hit}; their answers are no longer kept by the response "
        f"cache, and {a.outage_reload_share:.0%} of them are sent again"
    )
    yield (
        f"  gateway: {_n(o.rps)} req/s (was {_n(plan.peak.rps)}), {o.cpu_ms:.2f} ms CPU each "
        f"(was {plan.cpu_ms:.2f}): {o.cores:.1f} cores = {o.utilisation:.0%} of the "
        f"{plan.pods * a.cores_per_pod} planned (normal peak: "
        f"{plan.cores * a.cpu_target_utilisation:.1f} = {a.cpu_target_utilisation:.0%})"
    )
    yield (
        f"  Redis: {o.redis_cores:.2f} cores = {o.redis_utilisation:.0%} of a core per shard "
        f"(normal {plan.redis_cores / plan.redis_shards:.0%})"
    )
    for kind, f in (("hangs", o.hang), ("refuses at once", o.refused)):
        yield (
            f"  {o.agency} itself, if it {kind}: while breakers are closed (about "
            f"{f.seconds_to_open:.1f} s) at most {_n(f.closed_attempts_per_s)} attempts/s "
            f"fleet-wide (bound: {f.bound}; normal {_n(normal[o.agency])} calls/s); once open "
            f"{f.open_attempts_per_s:.2f} attempts/s (half-open and health probes)"
        )
    yield (
        f"  while a hanging {o.agency}'s breakers are closed, about {o.held_per_process:.0f} "
        f"requests per process wait on it (its timeout, {policy.timeout:g} s, each)"
    )
    rows = [
        (agency, _n(normal[agency], 1), _n(calls, 1), f"{calls - normal[agency]:+,.1f}")
        for agency, calls in sorted(o.calls_per_s.items(), key=lambda kv: -normal[kv[0]])
    ]
    yield "  calls/s to every agency, normal peak and during the outage:"
    yield from (f"    {line}" for line in _table(("agency", "normal", "outage", "change"), rows))


def as_json(plan: Plan) -> dict[str, Any]:
    return dataclasses.asdict(plan)
