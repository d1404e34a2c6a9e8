"""The capacity model's arithmetic: from per-request costs and a national peak, what a fleet needs.

    peak month ─▶ average day ─▶ peak day ─▶ peak hour ─▶ peak second       peak requests/s
    mix (home | me) × (hot | warm | cold) · measured cost of each kind       per-request averages
    peak × gateway CPU ÷ (utilisation target × worker efficiency)            cores ─▶ pods
    peak × Redis CPU ÷ utilisation target; answers held ÷ shard memory       Redis shards
    peak × Σ mix · agency calls of each kind                                 agency calls/s
    calls/s of one process × agency latency (Little's law)                   bulkhead and pool use
    one agency out, past its fresh window: answers lacking it are not kept   the outage's load
      by the response cache, some citizens reload; its own calls bounded by
      the bulkhead, the retry budget and the breaker

Pure functions of `Inputs` and the agencies' policies: no I/O, so a test can check the arithmetic
on a case worked by hand. Units: seconds, requests/s, ms of CPU per request, bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from bench.capacity.mix import calls_per_request, mean, weights
from bench.capacity.outage import outage
from bench.capacity.values import (
    DAY_S,
    QUERIES,
    AgencyLoad,
    Assumptions,
    Inputs,
    Limit,
    Peak,
    Plan,
)
from connectors.pipeline.policy import AgencyPolicy

__all__ = ["agency_memory", "citizens_within", "peak", "plan"]


def peak(a: Assumptions) -> Peak:
    """Peak-month transactions → requests/s in the busiest second of the busiest hour."""
    requests = a.peak_month_transactions * a.requests_per_transaction
    average_day = requests / a.days_in_peak_month
    peak_day = average_day * a.peak_day_factor
    peak_hour = peak_day * a.peak_hour_share
    average_month = a.annual_transactions / 12
    return Peak(
        average_month=average_month,
        peak_month_ratio=a.peak_month_transactions / average_month,
        average_day=average_day,
        peak_day=peak_day,
        peak_hour=peak_hour,
        rps=peak_hour / 3600 * a.burst_factor,
    )


def citizens_within(window_s: float, daily: float, monthly: float) -> float:
    """Distinct citizens seen within a window: a day's share below a day, then linearly up to
    the month's active citizens at 30 days (an upper bound: the busiest day repeated)."""
    days = window_s / DAY_S
    if days <= 1:
        return daily * days
    return min(monthly, daily + (monthly - daily) * (days - 1) / 29)


def _kept_s(policy: AgencyPolicy, *, stale: bool = True) -> float:
    """How long an agency's answers stay in Redis (its longest stale window: the key's TTL), or
    stay fresh (its longest fresh window: what the hit ratio needs)."""
    windows = (policy.windows(kind) for kind in (None, *policy.kind_ttls))
    return max(max(pair) if stale else pair[0] for pair in windows)


def plan(inputs: Inputs) -> Plan:
    m, a, lim = inputs.measured, inputs.assumed, inputs.limits
    p = peak(a)
    w = weights(a.query_share, a.temperature_share)
    cpu_ms = mean(w, m.costs, "gateway_cpu_ms")
    cores = p.rps * cpu_ms / 1000 / (a.cpu_target_utilisation * a.worker_efficiency)
    pods = max(a.min_pods, math.ceil(cores / a.cores_per_pod))
    processes = pods * a.cores_per_pod  # one worker per core

    redis_cpu_ms = mean(w, m.costs, "redis_cpu_ms")
    redis_cores = (p.rps * redis_cpu_ms + processes * m.idle_redis_cpu_ms_per_s) / 1000
    shards_cpu = math.ceil(redis_cores / a.redis_target_utilisation)
    stale = sum(agency_memory(inputs, p).values())
    fresh = sum(agency_memory(inputs, p, stale=False).values())
    audit = processes * lim.audit_stream_maxlen * m.redis_bytes_per_audit_record
    responses = _response_memory(inputs, p)
    memory = (stale if a.redis_keeps_stale_windows else fresh) + audit + responses
    shards_memory = math.ceil(memory / a.redis_shard_memory_bytes)

    agencies = tuple(lim.policies)
    per_request = calls_per_request(w, m.costs, agencies)
    held = agency_memory(inputs, p)
    loads = tuple(
        _agency_load(
            agency,
            per_request[agency],
            rps=p.rps,
            processes=processes,
            cpu_ms=cpu_ms,
            inputs=inputs,
            redis_bytes=held[agency],
        )
        for agency in agencies
    )
    limits = _limits(inputs, cpu_ms, redis_cpu_ms, per_request)
    per_process = [each for each in limits if each.scope == "per process"]
    return Plan(
        peak=p,
        cpu_ms=cpu_ms,
        redis_cpu_ms=redis_cpu_ms,
        redis_commands=mean(w, m.costs, "redis_commands"),
        redis_round_trips=mean(w, m.costs, "redis_round_trips"),
        redis_bytes=mean(w, m.costs, "redis_bytes"),
        cores=cores,
        pods=pods,
        processes=processes,
        redis_commands_per_s=p.rps * mean(w, m.costs, "redis_commands")
        + processes * m.idle_redis_commands_per_s,
        redis_round_trips_per_s=p.rps * mean(w, m.costs, "redis_round_trips"),
        redis_cores=redis_cores,
        redis_bytes_per_s=p.rps * mean(w, m.costs, "redis_bytes"),
        redis_memory_bytes=memory,
        redis_answers_stale_bytes=stale,
        redis_answers_fresh_bytes=fresh,
        redis_audit_bytes=audit,
        redis_responses_bytes=responses,
        redis_shards_cpu=shards_cpu,
        redis_shards_memory=shards_memory,
        redis_shards=max(1, shards_cpu, shards_memory),
        agencies=loads,
        limits=limits,
        first_bottleneck=min(per_process, key=lambda each: each.rps),
        outage=outage(
            inputs,
            p=p,
            pods=pods,
            processes=processes,
            shards=max(1, shards_cpu, shards_memory),
        ),
    )


def agency_memory(inputs: Inputs, p: Peak, *, stale: bool = True) -> dict[str, float]:
    """Bytes of each agency's answers in Redis: the citizens seen within its longest stale
    window (or fresh window) times what one citizen's answers from it take."""
    m, a, lim = inputs.measured, inputs.assumed, inputs.limits
    daily = p.peak_day / a.requests_per_citizen_day
    return {
        agency: citizens_within(_kept_s(policy, stale=stale), daily, a.monthly_active_citizens)
        * m.redis_bytes_per_citizen.get(agency, 0.0)
        for agency, policy in lim.policies.items()
    }


def _response_memory(inputs: Inputs, p: Peak) -> float:
    """Every request the response cache does not answer offers an answer, kept at most
    max-age."""
    m, a, lim = inputs.measured, inputs.assumed, inputs.limits
    stored_per_s = p.rps * (1 - a.temperature_share["hot"])
    response_bytes = sum(a.query_share[q] * m.costs[f"{q}-hot"].response_bytes for q in QUERIES)
    return stored_per_s * lim.response_max_age_s * response_bytes


def _agency_load(
    agency: str,
    per_request: float,
    *,
    rps: float,
    processes: int,
    cpu_ms: float,
    inputs: Inputs,
    redis_bytes: float,
) -> AgencyLoad:
    a, lim = inputs.assumed, inputs.limits
    bulkhead = lim.policies[agency].max_concurrent
    per_process = rps * per_request / processes
    # Requests/s one process reaches at 100 % CPU, and how long a call may then take before
    # that many calls in flight fill the bulkhead.
    process_rps = 1000 / cpu_ms * a.worker_efficiency
    calls_at_full_cpu = process_rps * per_request
    return AgencyLoad(
        agency=agency,
        calls_per_s=rps * per_request + 1 / lim.probe_interval_s,
        calls_per_request=per_request,
        per_process_per_s=per_process,
        in_flight_per_process=per_process * a.agency_latency_s,
        bulkhead=bulkhead,
        latency_limit_s=bulkhead / calls_at_full_cpu if calls_at_full_cpu else math.inf,
        redis_bytes=redis_bytes,
    )


def _limits(
    inputs: Inputs, cpu_ms: float, redis_cpu_ms: float, per_request: Mapping[str, float]
) -> tuple[Limit, ...]:
    """Requests/s each resource allows: per gateway process (CPU, bulkheads, connection pool),
    per Redis shard, and fleet-wide per agency quota when one is assumed."""
    a, lim = inputs.assumed, inputs.limits
    latency = a.agency_latency_s
    rows = [Limit("CPU (one core at 100 %)", "per process", 1000 / cpu_ms * a.worker_efficiency)]
    for agency, calls in per_request.items():
        if calls > 0:
            bulkhead = lim.policies[agency].max_concurrent
            rows.append(
                Limit(
                    f"bulkhead {agency} ({bulkhead})", "per process", bulkhead / (latency * calls)
                )
            )
    total_calls = sum(per_request.values())
    if total_calls > 0:
        rows.append(
            Limit(
                f"connection pool ({lim.pool_total})",
                "per process",
                lim.pool_total / (latency * total_calls),
            )
        )
        busiest = max(per_request.values())
        per_host_calls = total_calls if a.agencies_behind_one_host else busiest
        where = (
            "all agencies behind one host" if a.agencies_behind_one_host else "one agency's host"
        )
        rows.append(
            Limit(
                f"connections per host ({lim.pool_per_host}, {where})",
                "per process",
                lim.pool_per_host / (latency * per_host_calls),
            )
        )
    rows.append(
        Limit(
            f"Redis main thread at {a.redis_target_utilisation:.0%}",
            "per shard",
            1000 * a.redis_target_utilisation / redis_cpu_ms,
        )
    )
    if a.agency_quota_per_s is not None:
        for agency, calls in per_request.items():
            if calls > 0:
                rows.append(
                    Limit(
                        f"quota {agency} ({a.agency_quota_per_s:g}/s)",
                        "fleet",
                        a.agency_quota_per_s / calls,
                    )
                )
    return tuple(rows)
