"""How the capacity model's measurements are read: what Redis MONITOR and INFO report
(bench/redis_counters.py), and bench reports turned into measured.toml
(bench/capacity/collect.py)."""

from __future__ import annotations

import tomllib
from collections import Counter

import pytest

from bench.capacity.collect import gateway_cpu_ms, measured_toml
from bench.capacity.inputs import measured_from
from bench.redis_counters import cache_backend_errors, command_counts, families, family_of

AGENCIES = ("tax", "water")


def test_each_command_is_put_in_its_subsystem() -> None:
    assert family_of(["get", "cap:tax:tax-record:ab"], ["cap"], AGENCIES) == "agency-data"
    assert family_of(["set", "cap:water:bills:ab:lease", "t"], ["cap"], AGENCIES) == "lease"
    assert family_of(["get", "cap:response:ff"], ["cap"], AGENCIES) == "response"
    assert family_of(["evalsha", "sha", "1", "cap:ratelimit:LIMITER/x"], ["cap"], AGENCIES) == (
        "ratelimit"
    )
    assert family_of(["get", "capx:response:ff"], ["cap"], AGENCIES) == "other"  # not ours
    assert family_of(["multi"], ["cap"], AGENCIES) == "other"


def test_commands_run_by_a_script_are_the_scripts_own() -> None:
    seen = [
        ("tcp", "EVAL return 1 1 cap:tax:tax-record:ab:lease t"),
        ("lua", "get cap:tax:tax-record:ab:lease"),
        ("lua", "del cap:tax:tax-record:ab:lease"),
        ("tcp", "GET cap:tax:tax-record:ab"),
    ]
    assert families(seen, ["cap"], AGENCIES) == Counter({"lease eval": 1, "agency-data get": 1})


def test_info_counters() -> None:
    info = {"cmdstat_get": {"calls": 12, "usec": 30, "usec_per_call": 2.5}, "errorstat_x": 1}
    assert command_counts(info) == Counter({"get": 12})
    exposition = (
        "# HELP panjereh_cache_backend_errors_total Failed calls\n"
        "# TYPE panjereh_cache_backend_errors_total counter\n"
        'panjereh_cache_backend_errors_total{backend="redis"} 3.0\n'
    )
    assert cache_backend_errors(exposition) == 3.0
    assert cache_backend_errors("") == 0.0


def test_gateway_cpu_per_request_from_a_bench_scenario() -> None:
    # 54 % of a core while answering 540 requests a second: 1 ms each
    assert gateway_cpu_ms({"rps": 540.0, "cpu_percent": {"server": 54.0}}) == pytest.approx(1.0)
    assert gateway_cpu_ms({"rps": 0.0, "cpu_percent": {"server": 54.0}}) is None


def _phase(cpu: float, calls: dict[str, float], out: float) -> dict[str, object]:
    return {
        "requests": 10,
        "redis_cpu_ms": 0.1,
        "redis_commands": 12.0,
        "redis_commands_by_name": {"get": 12.0},
        "redis_bytes_in": 100.0,
        "redis_bytes_out": out,
        "gateway_cpu_ms": cpu,
        "agency_calls_by_agency": calls,
        "cache_backend_errors": 0,
    }


def test_collected_figures_are_what_the_model_reads() -> None:
    kinds = ("home-hot", "home-warm", "home-cold", "me-hot", "me-warm", "me-cold")
    ops = {
        "idle_per_second": {"redis_commands": 25.0, "redis_cpu_ms": 1.5},
        "phases": {
            kind: _phase(99.0, {"tax": 1.0} if kind.endswith("cold") else {}, 300.0)
            for kind in kinds
        },
        "monitored_per_request": {
            kind: {"agency-data get": 9.0, "response get": 1.0} for kind in kinds
        },
        "redis_memory_after_me_cold": {
            "citizens": 4,
            "by_family": {
                "tax": {"keys": 4, "bytes": 1000},
                "audit": {"keys": 1, "bytes": 9000, "entries": 10},
            },
        },
        "finished_at": "2026-11-30T07:00:00+0000",
        "load_average": {"start": [1.0, 2.0, 3.0], "end": [1.5, 2.0, 3.0]},
    }
    scenarios = {
        name: {"rps": 100.0, "cpu_percent": {"server": percent}}
        for name, percent in (
            ("home", 50.0), ("home-nocache", 60.0), ("me-warm", 70.0),
            ("me-warm-nocache", 80.0), ("me-cold", 90.0),
        )
    }  # fmt: skip
    runs = [
        {"scenarios": scenarios, "finished_at": "2026-11-30T06:00:00+0000", "machine": {}},
        {
            "scenarios": {k: {**v, "rps": 50.0} for k, v in scenarios.items()},
            "finished_at": "2026-11-30T06:10:00+0000",
            "machine": {},
        },
        {
            "scenarios": {k: {**v, "rps": 200.0} for k, v in scenarios.items()},
            "finished_at": "2026-11-30T06:20:00+0000",
            "machine": {},
        },
    ]
    text = measured_toml(
        runs,
        ops,
        bench_command="bin/bench",
        bench_conditions="quiet",
        redis_ops_command="python -m bench.redis_ops",
        redis_ops_conditions="quiet",
    )
    document = tomllib.loads(text)
    measured = measured_from(document)
    # home: 50 % at 100, 50 and 200 req/s → 5, 10 and 2.5 ms; the median is 5
    assert measured.costs["home-hot"].gateway_cpu_ms == pytest.approx(5.0)
    assert measured.costs["me-cold"].gateway_cpu_ms == pytest.approx(9.0)
    assert measured.costs["home-cold"].gateway_cpu_ms == pytest.approx(99.0)  # redis-ops'
    assert measured.costs["me-cold"].agency_calls == {"tax": 1.0}
    assert measured.costs["me-hot"].redis_round_trips == pytest.approx(10.0)
    assert measured.costs["me-hot"].redis_bytes == pytest.approx(400.0)
    assert measured.redis_bytes_per_citizen == {"tax": 250.0}  # audit is not an agency
    assert measured.redis_bytes_per_audit_record == 900.0
    assert measured.idle_redis_commands_per_s == 25.0
    assert document["sources"]["redis-ops"]["conditions"].endswith(
        "load average 1.0/2.0/3.0 at the start, 1.5/2.0/3.0 at the end"
    )
