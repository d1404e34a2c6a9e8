"""The capacity model's arithmetic, checked against a case worked by hand (bench/capacity).

The case: two agencies, A (answers kept a day) and B (kept 30 days, only in the full `me`
query), round figures chosen so every step can be redone on paper; the working is written next
to each assertion. A change to the model that changes a result fails here, with the step named.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.capacity.inputs import (
    ASSUMPTIONS_PATH,
    MEASURED_PATH,
    assumptions_from,
    load_inputs,
    parse_override,
)
from bench.capacity.model import citizens_within, plan
from bench.capacity.values import Assumptions, Costs, Inputs, Limits, Measured
from connectors.pipeline.policy import AgencyPolicy

DAY = 86_400.0


def _costs(cpu: float, redis_cpu: float, commands: float, response: float, **calls: float) -> Costs:
    return Costs(
        gateway_cpu_ms=cpu,
        redis_cpu_ms=redis_cpu,
        redis_commands=commands,
        redis_round_trips=commands / 2,
        redis_bytes=1000.0,
        response_bytes=response,
        agency_calls=calls,
    )


MEASURED = Measured(
    costs={
        "home-hot": _costs(1, 0.1, 10, 2000),
        "home-warm": _costs(4, 0.1, 20, 2000),
        "home-cold": _costs(12, 0.5, 100, 2000, A=1),
        "me-hot": _costs(2, 0.1, 10, 10_000),
        "me-warm": _costs(8, 0.1, 20, 10_000),
        "me-cold": _costs(40, 0.5, 100, 10_000, A=1, B=2),
    },
    idle_redis_commands_per_s=10,
    idle_redis_cpu_ms_per_s=2,
    redis_bytes_per_citizen={"A": 1000, "B": 2000},
    redis_bytes_per_audit_record=500,
)

ASSUMED = Assumptions(
    peak_month_transactions=324e6,
    annual_transactions=1.944e9,
    requests_per_transaction=2.0,
    days_in_peak_month=30,
    peak_day_factor=2.0,
    peak_hour_share=0.08,
    burst_factor=1.25,
    query_share={"home": 0.5, "me": 0.5},
    temperature_share={"hot": 0.5, "warm": 0.25, "cold": 0.25},
    cpu_target_utilisation=0.5,
    cores_per_pod=2,
    worker_efficiency=1.0,
    min_pods=3,
    redis_target_utilisation=0.5,
    redis_shard_memory_bytes=16e9,
    redis_keeps_stale_windows=True,
    agency_latency_s=0.5,
    agencies_behind_one_host=False,
    monthly_active_citizens=20e6,
    requests_per_citizen_day=4,
    outage_agency="B",
    outage_reload_share=0.2,
)

LIMITS = Limits(
    pool_total=512,
    pool_per_host=64,
    probe_interval_s=15.0,
    response_max_age_s=30.0,
    audit_stream_maxlen=1000,
    policies={
        "A": AgencyPolicy(timeout=2.0, fresh_ttl=300, stale_ttl=DAY),
        "B": AgencyPolicy(timeout=3.0, fresh_ttl=600, stale_ttl=30 * DAY),
    },
)

INPUTS = Inputs(measured=MEASURED, assumed=ASSUMED, limits=LIMITS)


def _approx(value: float) -> object:
    return pytest.approx(value, rel=1e-9)


def test_peak_requests_per_second_from_the_peak_month() -> None:
    p = plan(INPUTS).peak
    assert p.average_month == _approx(162e6)  # 1.944e9 / 12
    assert p.peak_month_ratio == _approx(2.0)  # 324e6 / 162e6
    assert p.average_day == _approx(21.6e6)  # 324e6 × 2 requests / 30
    assert p.peak_day == _approx(43.2e6)  # × 2
    assert p.peak_hour == _approx(3.456e6)  # × 0.08
    assert p.rps == _approx(1200.0)  # / 3600 = 960, × 1.25


def test_cores_and_pods_from_the_mix() -> None:
    result = plan(INPUTS)
    # home: .5×1 + .25×4 + .25×12 = 4.5; me: .5×2 + .25×8 + .25×40 = 13; mix: (4.5 + 13) / 2
    assert result.cpu_ms == _approx(8.75)
    assert result.cores == _approx(21.0)  # 1200 × 8.75 ms ÷ 0.5 target ÷ 1.0 efficiency
    assert result.pods == 11  # ceil(21 / 2 cores)
    assert result.processes == 22


def test_worker_efficiency_and_minimum_pods() -> None:
    halved = plan(_with(worker_efficiency=0.5))
    assert halved.cores == _approx(42.0)
    assert halved.pods == 21
    quiet = plan(_with(peak_month_transactions=324e6 / 100))
    assert quiet.cores == _approx(0.21)
    assert quiet.pods == 3  # never below min_pods


def test_redis_shards_by_cpu_and_by_memory() -> None:
    result = plan(INPUTS)
    assert result.redis_cpu_ms == _approx(0.2)  # .5×.1 + .25×.1 + .25×.5, both queries
    assert result.redis_cores == _approx(0.284)  # (1200 × 0.2 + 22 processes × 2) / 1000
    assert result.redis_shards_cpu == 1  # ceil(0.284 / 0.5)
    assert result.redis_commands_per_s == _approx(42_220)  # 1200 × 35 + 22 × 10
    # daily citizens 43.2e6 / 4 = 10.8e6: A kept a day → 10.8e6 × 1000 B; B kept 30 days →
    # all 20e6 monthly citizens × 2000 B; responses: 600 stored/s × 30 s × 6000 B; audit
    # streams: 22 processes × 1000 records × 500 B.
    assert result.redis_answers_stale_bytes == _approx(10.8e9 + 40e9)
    assert result.redis_responses_bytes == _approx(108e6)
    assert result.redis_audit_bytes == _approx(11e6)
    assert result.redis_memory_bytes == _approx(10.8e9 + 40e9 + 108e6 + 11e6)
    assert result.redis_shards_memory == 4  # ceil(50.919 / 16)
    assert result.redis_shards == 4
    # Fresh windows only: A fresh 300 s → 10.8e6 × 300/86400 = 37,500 citizens × 1000 B;
    # B fresh 600 s → 75,000 × 2000 B.
    assert result.redis_answers_fresh_bytes == _approx(37.5e6 + 150e6)
    lean = plan(_with(redis_keeps_stale_windows=False))
    assert lean.redis_memory_bytes == _approx(187.5e6 + 108e6 + 11e6)
    assert lean.redis_shards_memory == 1


def test_citizens_within_a_window() -> None:
    assert citizens_within(DAY / 4, 10.0, 100.0) == _approx(2.5)
    assert citizens_within(15 * DAY, 10.0, 100.0) == _approx(10 + 90 * 14 / 29)
    assert citizens_within(90 * DAY, 10.0, 100.0) == _approx(100.0)


def test_agency_calls_and_bulkheads() -> None:
    loads = {x.agency: x for x in plan(INPUTS).agencies}
    a, b = loads["A"], loads["B"]
    assert a.calls_per_request == _approx(0.25)  # .5 × .25 × 1 + .5 × .25 × 1
    assert b.calls_per_request == _approx(0.25)  # .5 × .25 × 2
    assert a.calls_per_s == _approx(300 + 1 / 15)  # health probes: one per 15 s
    assert a.per_process_per_s == _approx(300 / 22)
    assert a.in_flight_per_process == _approx(300 / 22 * 0.5)
    # At 100 % CPU a process answers 1000 / 8.75 req/s, i.e. 28.57 calls/s to A: 32 slots
    # fill when a call takes 32 / 28.57 = 1.12 s.
    assert a.latency_limit_s == _approx(32 / (1000 / 8.75 * 0.25))
    assert a.redis_bytes == _approx(10.8e9)  # a day's 10.8e6 citizens × 1000 B
    assert b.redis_bytes == _approx(40e9)  # the month's 20e6 × 2000 B


def test_what_runs_out_first() -> None:
    result = plan(INPUTS)
    limits = {x.resource: x.rps for x in result.limits}
    assert limits["CPU (one core at 100 %)"] == _approx(1000 / 8.75)
    assert limits["bulkhead A (32)"] == _approx(256)  # 32 / (0.5 s × 0.25 calls)
    assert limits["connection pool (512)"] == _approx(2048)  # 512 / (0.5 × 0.5)
    assert limits["connections per host (64, one agency's host)"] == _approx(512)
    assert limits["Redis main thread at 50%"] == _approx(2500)  # 1000 × 0.5 / 0.2
    assert result.first_bottleneck.resource == "CPU (one core at 100 %)"
    slow = plan(_with(agency_latency_s=2.0, agencies_behind_one_host=True))
    slow_limits = {x.resource: x.rps for x in slow.limits}
    # all calls (0.5 a request) share one host's 64 connections, each held 2 s: 64 req/s, as
    # low as each bulkhead (32 / (2 s × 0.25)), now below the CPU's 114
    assert slow_limits["connections per host (64, all agencies behind one host)"] == _approx(64)
    assert slow_limits["bulkhead B (32)"] == _approx(64)
    assert slow.first_bottleneck.rps == _approx(64)
    quota = {x.resource: x for x in plan(_with(agency_quota_per_s=200.0)).limits}
    # A quota is fleet-wide: 200 calls/s at 0.25 calls a request = 800 req/s, below the 1200
    assert quota["quota A (200/s)"].rps == _approx(800)
    assert quota["quota A (200/s)"].scope == "fleet"


def test_one_agency_out() -> None:
    o = plan(INPUTS).outage
    assert o.queries_hit == ("me",)  # only me-cold calls B
    # me: hot .5 → warm, plus .2 reloads of me's .5 share: me-warm .5×.75 + .1 = .475
    assert o.rps == _approx(1320)  # 1200 × (1 + .1)
    # per normal request: home 2.25 + me (.475×8 + .125×40 = 8.8) = 11.05 ms; ÷ 1.1
    assert o.cpu_ms == _approx(11.05 / 1.1)
    assert o.cores == _approx(13.26)
    assert o.utilisation == _approx(13.26 / 22)
    # Redis: (1320 × 0.21/1.1 + 44) / 1000 over 4 shards
    assert o.redis_cores == _approx(0.296)
    assert o.redis_utilisation == _approx(0.074)
    assert o.calls_per_s["A"] == _approx(300 + 1 / 15)  # the others: exactly as before
    # B hanging, while closed: a process wants 1200 × .25 / 22 = 13.64 calls/s; bounds: 3
    # attempts 40.9/s, budget 1.2 × 13.64 + 5/10 = 16.86/s, bulkhead 32 slots / 3 s = 10.67/s.
    assert o.hang.bound == "bulkhead"
    assert o.hang.closed_attempts_per_s == _approx(22 * 32 / 3)
    assert o.hang.seconds_to_open == _approx(3 + 10 / (32 / 3))  # verdicts after the timeout
    assert o.held_per_process == _approx(1200 * 0.25 / 22 * 3)
    # open: 2 half-open probes per (15 s open + 3 s timeout) per process, + health probes
    assert o.hang.open_attempts_per_s == _approx(22 * 2 / 18 + 1 / 15)
    assert o.calls_per_s["B"] == _approx(22 * 2 / 18 + 1 / 15)
    # B refusing at once: no slot held, so the retry budget bounds; verdicts at once
    assert o.refused.bound == "retry budget"
    assert o.refused.closed_attempts_per_s == _approx(22 * (1.2 * 1200 * 0.25 / 22 + 0.5))
    assert o.refused.seconds_to_open == _approx(10 / (1.2 * 1200 * 0.25 / 22 + 0.5))
    assert o.refused.open_attempts_per_s == _approx(22 * 2 / 15 + 1 / 15)


def test_retry_budget_bounds_a_wide_bulkhead_and_the_attempt_limit_a_generous_budget() -> None:
    policies = dict(LIMITS.policies)
    policies["B"] = policies["B"].replace(max_concurrent=1000)
    o = plan(Inputs(MEASURED, ASSUMED, _limits(policies))).outage
    assert o.hang.bound == "retry budget"
    assert o.hang.closed_attempts_per_s == _approx(22 * (1.2 * 1200 * 0.25 / 22 + 0.5))
    from connectors.pipeline.retry_budget import RetryBudgetPolicy

    policies["B"] = policies["B"].replace(retry_budget=RetryBudgetPolicy(ratio=5.0))
    o = plan(Inputs(MEASURED, ASSUMED, _limits(policies))).outage
    assert o.hang.bound == "attempt limit"
    assert o.hang.closed_attempts_per_s == _approx(3 * 1200 * 0.25)


def test_shares_must_add_up() -> None:
    with pytest.raises(ValueError, match="temperature shares"):
        plan(_with(temperature_share={"hot": 0.5, "warm": 0.5, "cold": 0.5}))


def test_assumptions_need_reasons_and_known_names() -> None:
    with pytest.raises(ValueError, match="needs a value and a reason"):
        assumptions_from({"min_pods": {"value": 3}})
    with pytest.raises(ValueError, match="unknown assumption"):
        assumptions_from({"cheap_cores": {"value": 3, "reason": "x"}})
    assert parse_override("query_share={home = 0.7, me = 0.3}") == (
        "query_share",
        {"home": 0.7, "me": 0.3},
    )
    with pytest.raises(ValueError, match="name=value"):
        parse_override("0.3")


def test_committed_inputs_load_and_plan() -> None:
    """The committed measured.toml and assumptions.toml are complete and give a plan; every
    assumption there carries a reason, and the policies are the code's."""
    inputs, measured_doc, assumed_doc = load_inputs(MEASURED_PATH, ASSUMPTIONS_PATH)
    assert all(entry["reason"] for entry in assumed_doc.values())
    assert {"bench", "redis-ops"} <= set(measured_doc["sources"])
    for source in measured_doc["sources"].values():
        assert source["date"] and source["command"]
    assert len(inputs.limits.policies) == 16
    result = plan(inputs)
    assert result.pods >= inputs.assumed.min_pods
    assert result.redis_shards >= 1
    assert math.isfinite(result.cores) and result.cores > 0
    assert all(x.calls_per_s > 0 for x in result.agencies)


def test_the_command_prints_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.capacity.__main__ import main

    out = tmp_path / "plan.json"
    assert main(["--peak-month", "694e6", "--outage-agency", "water", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    for heading in ("PEAK", "GATEWAY", "REDIS", "AGENCIES", "WHAT RUNS OUT FIRST", "OUTAGE: water"):
        assert heading in printed
    assert "694,000,000 transactions" in printed
    assert '"pods"' in out.read_text()
    assert main(["--outage-agency", "nowhere"]) == 2
    assert main(["--agency-policies", '{"nowhere": {"max_concurrent": 64}}']) == 2


def test_policy_overrides_reach_the_plan() -> None:
    """What ops would set in PANJEREH_AGENCY_POLICIES changes the bulkhead the plan uses."""
    wide = '{"traffic-police": {"max_concurrent": 64}}'
    inputs, _, _ = load_inputs(policy_overrides=json.loads(wide))
    assert inputs.limits.policies["traffic-police"].max_concurrent == 64
    assert inputs.limits.policies["tax"].max_concurrent == 32
    limits = {x.resource for x in plan(inputs).limits}
    assert "bulkhead traffic-police (64)" in limits
    short, _, _ = load_inputs(audit_stream_maxlen=100_000)
    assert short.limits.audit_stream_maxlen == 100_000
    full = plan(inputs)
    assert plan(short).redis_audit_bytes == pytest.approx(full.redis_audit_bytes / 10)


def _with(**changes: object) -> Inputs:
    import dataclasses

    return Inputs(MEASURED, dataclasses.replace(ASSUMED, **changes), LIMITS)


def _limits(policies: dict[str, AgencyPolicy]) -> Limits:
    import dataclasses

    return dataclasses.replace(LIMITS, policies=policies)
