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
from dataclasses import dataclass

from connectors.pipeline.policy import AgencyPolicy

__all__ = [
    "DAY_S",
    "QUERIES",
    "TEMPERATURES",
    "AgencyLoad",
    "Assumptions",
    "Costs",
    "Failing",
    "Inputs",
    "Limit",
    "Limits",
    "Measured",
    "Outage",
    "Peak",
    "Plan",
    "agency_memory",
    "plan",
]

QUERIES = ("home", "me")
"""The two requests measured: the home screen and the full citizen record."""
TEMPERATURES = ("hot", "warm", "cold")
"""hot: the response cache answers; warm: executed from cached agency data; cold: agencies asked."""
DAY_S = 86_400.0


@dataclass(frozen=True)
class Costs:
    """What one request of one kind (e.g. `me-cold`) costs, measured."""

    gateway_cpu_ms: float
    redis_cpu_ms: float
    redis_commands: float
    """Commands Redis executed, those run inside scripts included (its CPU follows these)."""
    redis_round_trips: float
    """Commands the gateway sent (a script is one): the network round trips."""
    redis_bytes: float
    """Bytes to and from Redis."""
    response_bytes: float
    """Size of the answer as kept by the response cache (its hot reads' bytes out)."""
    agency_calls: Mapping[str, float]


@dataclass(frozen=True)
class Measured:
    costs: Mapping[str, Costs]
    """By `query-temperature`, e.g. `home-hot`."""
    idle_redis_commands_per_s: float
    idle_redis_cpu_ms_per_s: float
    """At rest, per gateway process: probes, health book, followers of shared state."""
    redis_bytes_per_citizen: Mapping[str, float]
    """What one citizen's answers from each agency hold in Redis (`MEMORY USAGE`)."""


@dataclass(frozen=True)
class Assumptions:
    """Everything not measured; each value's reason is in assumptions.toml."""

    peak_month_transactions: float
    annual_transactions: float
    requests_per_transaction: float
    days_in_peak_month: float
    peak_day_factor: float
    peak_hour_share: float
    burst_factor: float
    query_share: Mapping[str, float]
    temperature_share: Mapping[str, float]
    cpu_target_utilisation: float
    cores_per_pod: int
    worker_efficiency: float
    min_pods: int
    redis_target_utilisation: float
    redis_shard_memory_bytes: float
    agency_latency_s: float
    agencies_behind_one_host: bool
    monthly_active_citizens: float
    requests_per_citizen_day: float
    outage_agency: str
    outage_reload_share: float
    agency_quota_per_s: float | None = None


@dataclass(frozen=True)
class Limits:
    """Configuration read from the code: what one gateway process may hold open."""

    pool_total: int
    pool_per_host: int
    probe_interval_s: float
    response_max_age_s: float
    policies: Mapping[str, AgencyPolicy]


@dataclass(frozen=True)
class Inputs:
    measured: Measured
    assumed: Assumptions
    limits: Limits


@dataclass(frozen=True)
class Peak:
    average_month: float
    peak_month_ratio: float
    average_day: float
    peak_day: float
    peak_hour: float
    rps: float


@dataclass(frozen=True)
class AgencyLoad:
    agency: str
    calls_per_s: float
    """Fleet-wide at peak, health probes included."""
    calls_per_request: float
    per_process_per_s: float
    in_flight_per_process: float
    bulkhead: int
    latency_limit_s: float
    """The agency latency at which this bulkhead fills before the CPU does."""
    redis_bytes: float
    """Its answers held in Redis for their windows."""


@dataclass(frozen=True)
class Limit:
    """How many requests/s one resource lets through, and for what scope."""

    resource: str
    scope: str
    rps: float


@dataclass(frozen=True)
class Outage:
    agency: str
    queries_hit: tuple[str, ...]
    rps: float
    cpu_ms: float
    cores: float
    utilisation: float
    """Of the planned fleet's cores, at peak, with the agency out."""
    redis_cores: float
    redis_utilisation: float
    calls_per_s: Mapping[str, float]
    """Every agency's calls/s during the outage (the failed one: once its breaker is open)."""
    hang: Failing
    refused: Failing
    held_per_process: float
    """Requests per process waiting on a hanging agency while its breaker is closed."""


@dataclass(frozen=True)
class Failing:
    """How hard the failed agency is called, fleet-wide, when it fails one way."""

    closed_attempts_per_s: float
    """While breakers are still closed (the outage's first seconds)."""
    bound: str
    """What bounds those attempts: the attempt limit, the retry budget or the bulkhead."""
    seconds_to_open: float
    open_attempts_per_s: float
    """Once open: half-open probes, and the health probes."""


@dataclass(frozen=True)
class Plan:
    peak: Peak
    cpu_ms: float
    redis_cpu_ms: float
    redis_commands: float
    redis_round_trips: float
    redis_bytes: float
    cores: float
    pods: int
    processes: int
    redis_commands_per_s: float
    redis_round_trips_per_s: float
    redis_cores: float
    redis_bytes_per_s: float
    redis_memory_bytes: float
    redis_shards_cpu: int
    redis_shards_memory: int
    redis_shards: int
    agencies: tuple[AgencyLoad, ...]
    limits: tuple[Limit, ...]
    first_bottleneck: Limit
    outage: Outage


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


def weights(
    query_share: Mapping[str, float], temperature_share: Mapping[str, float]
) -> dict[str, float]:
    """Share of all requests of each kind (`home-hot`, …); they add up to 1."""
    for name, shares in (("query", query_share), ("temperature", temperature_share)):
        if not math.isclose(sum(shares.values()), 1.0, abs_tol=1e-9):
            raise ValueError(f"the {name} shares must add up to 1, not {sum(shares.values())}")
    return {
        f"{q}-{t}": query_share[q] * temperature_share[t] for q in QUERIES for t in TEMPERATURES
    }


def _mean(w: Mapping[str, float], costs: Mapping[str, Costs], field: str) -> float:
    return sum(share * getattr(costs[kind], field) for kind, share in w.items())


def _calls_per_request(
    w: Mapping[str, float], costs: Mapping[str, Costs], agencies: tuple[str, ...]
) -> dict[str, float]:
    return {
        agency: sum(share * costs[kind].agency_calls.get(agency, 0.0) for kind, share in w.items())
        for agency in agencies
    }


def citizens_within(window_s: float, daily: float, monthly: float) -> float:
    """Distinct citizens seen within a window: a day's share below a day, then linearly up to
    the month's active citizens at 30 days (an upper bound: the busiest day repeated)."""
    days = window_s / DAY_S
    if days <= 1:
        return daily * days
    return min(monthly, daily + (monthly - daily) * (days - 1) / 29)


def _kept_s(policy: AgencyPolicy) -> float:
    """How long an agency's answer is kept in Redis: its longest fresh-or-stale window."""
    return max(max(policy.windows(kind)) for kind in (None, *policy.kind_ttls))


def plan(inputs: Inputs) -> Plan:
    m, a, lim = inputs.measured, inputs.assumed, inputs.limits
    p = peak(a)
    w = weights(a.query_share, a.temperature_share)
    cpu_ms = _mean(w, m.costs, "gateway_cpu_ms")
    cores = p.rps * cpu_ms / 1000 / (a.cpu_target_utilisation * a.worker_efficiency)
    pods = max(a.min_pods, math.ceil(cores / a.cores_per_pod))
    processes = pods * a.cores_per_pod  # one worker per core

    redis_cpu_ms = _mean(w, m.costs, "redis_cpu_ms")
    redis_cores = (p.rps * redis_cpu_ms + processes * m.idle_redis_cpu_ms_per_s) / 1000
    shards_cpu = math.ceil(redis_cores / a.redis_target_utilisation)
    memory = _redis_memory(inputs, p)
    shards_memory = math.ceil(memory / a.redis_shard_memory_bytes)

    agencies = tuple(lim.policies)
    per_request = _calls_per_request(w, m.costs, agencies)
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
        redis_commands=_mean(w, m.costs, "redis_commands"),
        redis_round_trips=_mean(w, m.costs, "redis_round_trips"),
        redis_bytes=_mean(w, m.costs, "redis_bytes"),
        cores=cores,
        pods=pods,
        processes=processes,
        redis_commands_per_s=p.rps * _mean(w, m.costs, "redis_commands")
        + processes * m.idle_redis_commands_per_s,
        redis_round_trips_per_s=p.rps * _mean(w, m.costs, "redis_round_trips"),
        redis_cores=redis_cores,
        redis_bytes_per_s=p.rps * _mean(w, m.costs, "redis_bytes"),
        redis_memory_bytes=memory,
        redis_shards_cpu=shards_cpu,
        redis_shards_memory=shards_memory,
        redis_shards=max(1, shards_cpu, shards_memory),
        agencies=loads,
        limits=limits,
        first_bottleneck=min(per_process, key=lambda each: each.rps),
        outage=_outage(
            inputs,
            p=p,
            pods=pods,
            processes=processes,
            shards=max(1, shards_cpu, shards_memory),
        ),
    )


def agency_memory(inputs: Inputs, p: Peak) -> dict[str, float]:
    """Bytes of each agency's answers held in Redis: the citizens seen within its longest
    window (fresh or stale) times what one citizen's answers from it take."""
    m, a, lim = inputs.measured, inputs.assumed, inputs.limits
    daily = p.peak_day / a.requests_per_citizen_day
    return {
        agency: citizens_within(_kept_s(policy), daily, a.monthly_active_citizens)
        * m.redis_bytes_per_citizen.get(agency, 0.0)
        for agency, policy in lim.policies.items()
    }


def _redis_memory(inputs: Inputs, p: Peak) -> float:
    """Agency answers held for their stale windows, plus answers the response cache keeps."""
    m, a, lim = inputs.measured, inputs.assumed, inputs.limits
    answers = sum(agency_memory(inputs, p).values())
    # Every request the response cache does not answer offers an answer, kept at most max-age.
    stored_per_s = p.rps * (1 - a.temperature_share["hot"])
    response_bytes = sum(a.query_share[q] * m.costs[f"{q}-hot"].response_bytes for q in QUERIES)
    return answers + stored_per_s * lim.response_max_age_s * response_bytes


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


def _outage(
    inputs: Inputs,
    *,
    p: Peak,
    pods: int,
    processes: int,
    shards: int,
) -> Outage:
    """One agency failing (hanging) for longer than its fresh window, at peak.

    Queries that need it lose their response-cache hits (an answer with a part missing or stale
    is not kept), so their hot requests execute as warm ones; `outage_reload_share` of their
    requests are sent again once (executed warm: the other agencies' answers are cached). The
    other agencies are asked exactly as before: each part is fetched on its own, retries and
    breakers are per agency. The failed agency itself: while a process's breaker is closed,
    attempts are bounded by the bulkhead (each holds a slot for the timeout), the retry budget
    and the attempt limit; once open, only half-open probes and the health probes reach it.
    """
    m, a, lim = inputs.measured, inputs.assumed, inputs.limits
    agency = a.outage_agency
    policy = lim.policies[agency]
    hit = tuple(
        q
        for q in QUERIES
        if any(m.costs[f"{q}-{t}"].agency_calls.get(agency, 0) for t in TEMPERATURES)
    )
    t = a.temperature_share
    shifted: dict[str, float] = {}
    for q in QUERIES:
        share = a.query_share[q]
        if q in hit:
            reloads = share * a.outage_reload_share
            shifted[f"{q}-hot"] = 0.0
            shifted[f"{q}-warm"] = share * (t["hot"] + t["warm"]) + reloads
            shifted[f"{q}-cold"] = share * t["cold"]
        else:
            for temperature in TEMPERATURES:
                shifted[f"{q}-{temperature}"] = share * t[temperature]
    factor = sum(shifted.values())  # requests per request of the normal peak
    outage_cpu_ms = _mean(shifted, m.costs, "gateway_cpu_ms") / factor
    rps = p.rps * factor
    cores_used = rps * outage_cpu_ms / 1000 / a.worker_efficiency
    redis_cores = (
        rps * _mean(shifted, m.costs, "redis_cpu_ms") / factor
        + processes * m.idle_redis_cpu_ms_per_s
    ) / 1000

    # Calls: the cold requests are as many as before; reloads are warm and call no agency.
    normal_w = weights(a.query_share, a.temperature_share)
    per_request = _calls_per_request(normal_w, m.costs, tuple(lim.policies))
    probes = 1 / lim.probe_interval_s
    calls = {name: p.rps * n + probes for name, n in per_request.items()}

    logical = p.rps * per_request[agency] / processes  # calls a process wants to make
    hang = _failing(policy, logical, processes, probes, hangs=True)
    calls[agency] = hang.open_attempts_per_s
    return Outage(
        agency=agency,
        queries_hit=hit,
        rps=rps,
        cpu_ms=outage_cpu_ms,
        cores=cores_used,
        utilisation=cores_used / (pods * a.cores_per_pod),
        redis_cores=redis_cores,
        redis_utilisation=redis_cores / shards,
        calls_per_s=calls,
        hang=hang,
        refused=_failing(policy, logical, processes, probes, hangs=False),
        held_per_process=logical * policy.timeout,
    )


def _failing(
    policy: AgencyPolicy, logical: float, processes: int, probes: float, *, hangs: bool
) -> Failing:
    """Attempts on an agency that hangs (each attempt holds a bulkhead slot for the timeout and
    has its verdict then) or refuses at once (slots freed at once, verdicts at once)."""
    budget, breaker = policy.retry_budget, policy.breaker
    bounds = {
        "attempt limit": policy.max_attempts * logical,
        "retry budget": (1 + budget.ratio) * logical + budget.min_retries / budget.window_s,
    }
    if hangs:
        bounds["bulkhead"] = policy.max_concurrent / policy.timeout
    bound = min(bounds, key=lambda name: bounds[name])
    attempts = bounds[bound]
    wait = policy.timeout if hangs else 0.0  # until an attempt has its verdict
    return Failing(
        closed_attempts_per_s=processes * attempts,
        bound=bound,
        seconds_to_open=wait + breaker.min_calls / attempts if attempts else math.inf,
        open_attempts_per_s=processes * breaker.probe_calls / (breaker.open_s + wait) + probes,
    )
