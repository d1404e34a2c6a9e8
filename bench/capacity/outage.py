"""One agency's outage at peak: what it does to the gateway, Redis and every agency's calls.

    the agency fails for longer than its fresh window
      ├─ answers that need it come back with its part missing or stale: the response cache
      │  keeps none of them, so those queries' hot requests execute (warm)
      ├─ some citizens reload a partial answer once (warm: the other parts are cached)
      ├─ the other agencies: called exactly as before (each part is fetched on its own, with its
      │  own retries, budget, breaker and bulkhead)
      └─ the agency itself: while a process's breaker is closed, attempts bounded by the attempt
         limit, the retry budget and, if it hangs, the bulkhead; once open, half-open probes

Reported in docs/capacity.md §7; `--outage-agency` picks the agency.
"""

from __future__ import annotations

import math

from bench.capacity.mix import calls_per_request, mean, weights
from bench.capacity.values import QUERIES, TEMPERATURES, Failing, Inputs, Outage, Peak
from connectors.pipeline.policy import AgencyPolicy

__all__ = ["outage"]


def outage(
    inputs: Inputs,
    *,
    p: Peak,
    pods: int,
    processes: int,
    shards: int,
) -> Outage:
    """One agency failing (hanging, or refusing at once) for longer than its fresh window.

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
    outage_cpu_ms = mean(shifted, m.costs, "gateway_cpu_ms") / factor
    rps = p.rps * factor
    cores_used = rps * outage_cpu_ms / 1000 / a.worker_efficiency
    redis_cores = (
        rps * mean(shifted, m.costs, "redis_cpu_ms") / factor
        + processes * m.idle_redis_cpu_ms_per_s
    ) / 1000

    # Calls: the cold requests are as many as before; reloads are warm and call no agency.
    normal_w = weights(a.query_share, a.temperature_share)
    per_request = calls_per_request(normal_w, m.costs, tuple(lim.policies))
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
