"""`python -m bench.capacity.collect`: write measured.toml from the measuring runs' JSON.

    bin/bench ... --json run1.json   (gateway CPU per request, with Redis; several runs)
    python -m bench.redis_ops --json ops.json   (Redis and agency calls per request)
    python -m bench.capacity.collect --bench run1.json run2.json run3.json --redis-ops ops.json \\
        --bench-command "…" --bench-conditions "load average …" --redis-ops-conditions "…"

Gateway CPU per request is the gateway's CPU over the measured window divided by the requests
answered in it (`server cpu` ÷ `req/s`), the median over the `--bench` runs: on a shared two-core
machine single runs move by a quarter. `python -m bench` has no cold home-screen scenario, so
`home-cold`'s CPU comes from `bench.redis_ops` (its gateway, also with Redis, 32 at a time).
Written by a program so that no figure is copied by hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.capacity.inputs import MEASURED_PATH

__all__ = ["BENCH_KINDS", "gateway_cpu_ms", "measured_toml"]

BENCH_KINDS = {
    "home": "home-hot",
    "home-nocache": "home-warm",
    "me-warm": "me-hot",
    "me-warm-nocache": "me-warm",
    "me-cold": "me-cold",
}
"""`python -m bench` scenario → the model's kind of request."""


def gateway_cpu_ms(scenario: Mapping[str, Any]) -> float | None:
    """CPU ms of the gateway per request answered in one scenario of a `bench --json` report."""
    server = (scenario.get("cpu_percent") or {}).get("server")
    rps = scenario.get("rps") or 0
    if server is None or not rps:
        return None
    return float(server) / 100 / float(rps) * 1000


def _str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def _num(value: float) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def measured_toml(
    bench_runs: Sequence[Mapping[str, Any]],
    redis_ops: Mapping[str, Any],
    *,
    bench_command: str,
    bench_conditions: str,
    redis_ops_command: str,
    redis_ops_conditions: str,
) -> str:
    sources = {
        "bench": (bench_command, bench_conditions),
        "redis-ops": (redis_ops_command, redis_ops_conditions),
    }
    return "\n".join(_toml(bench_runs, redis_ops, sources)) + "\n"


def _toml(
    bench_runs: Sequence[Mapping[str, Any]],
    redis_ops: Mapping[str, Any],
    sources: Mapping[str, tuple[str, str]],
) -> Iterator[str]:
    bench_command, bench_conditions = sources["bench"]
    redis_ops_command, redis_ops_conditions = sources["redis-ops"]
    yield "# Measured inputs of the capacity model (python -m bench.capacity): every figure here"
    yield "# was measured, by the sources below. Written by python -m bench.capacity.collect; to"
    yield '# change a figure, measure again (docs/capacity.md, "How to redo this").'
    yield ""
    dates = sorted(str(run.get("finished_at", "?")) for run in bench_runs)
    yield "[sources.bench]"
    yield f"date = {_str(dates[0][:10])}"
    yield f"runs = {_str(', '.join(dates))}"
    yield f"command = {_str(bench_command)}"
    yield f"conditions = {_str(bench_conditions)}"
    machine = bench_runs[0].get("machine", {})
    described = f"{machine.get('cores')} cores, {machine.get('cpu')}, {machine.get('python')}"
    yield f"machine = {_str(described)}"
    yield ""
    yield "[sources.redis-ops]"
    yield f"date = {_str(str(redis_ops.get('finished_at', '?'))[:10])}"
    yield f"command = {_str(redis_ops_command)}"
    load = redis_ops.get("load_average", {})
    yield f"conditions = {_str(redis_ops_conditions + _load_text(load))}"
    yield ""
    idle = redis_ops["idle_per_second"]
    yield "[idle]  # one gateway process at rest: probes, health book, followers of shared state"
    yield 'source = "redis-ops: idle"'
    yield f"redis_commands_per_s = {_num(idle['redis_commands'])}"
    yield f"redis_cpu_ms_per_s = {_num(idle['redis_cpu_ms'])}"
    yield ""
    phases = redis_ops["phases"]
    monitored = redis_ops.get("monitored_per_request", {})
    for kind in ("home-hot", "home-warm", "home-cold", "me-hot", "me-warm", "me-cold"):
        yield from _cost(kind, bench_runs, phases[kind], monitored.get(kind, {}), phases)
    memory = redis_ops["redis_memory_after_me_cold"]
    citizens = memory["citizens"]
    yield "[redis_bytes_per_citizen]"
    source = f"redis-ops: MEMORY USAGE of each agency's keys after me-cold ÷ {citizens} citizens"
    yield f"source = {_str(source)}"
    for family, row in memory["by_family"].items():
        if family in phases["me-cold"]["agency_calls_by_agency"]:
            yield f"{family} = {round(row['bytes'] / citizens)}"
    yield ""
    audit = memory["by_family"]["audit"]
    yield "[audit_stream]"
    records = audit["entries"]
    source = f"redis-ops: MEMORY USAGE of the audit stream after me-cold ÷ its {records} records"
    yield f"source = {_str(source)}"
    yield f"bytes_per_record = {round(audit['bytes'] / audit['entries'])}"
    yield ""


def _load_text(load: Mapping[str, Sequence[float]]) -> str:
    if not load:
        return ""
    start = "/".join(f"{x:.1f}" for x in load.get("start", ()))
    end = "/".join(f"{x:.1f}" for x in load.get("end", ()))
    return f"; load average {start} at the start, {end} at the end"


def _cost(
    kind: str,
    bench_runs: Sequence[Mapping[str, Any]],
    phase: Mapping[str, Any],
    monitored: Mapping[str, float],
    phases: Mapping[str, Mapping[str, Any]],
) -> Iterator[str]:
    scenario = next((s for s, k in BENCH_KINDS.items() if k == kind), None)
    yield f"[costs.{kind}]"
    if scenario is not None:
        values = [
            cpu
            for run in bench_runs
            if (cpu := gateway_cpu_ms(run["scenarios"].get(scenario, {}))) is not None
        ]
        listed = ", ".join(f"{v:.2f}" for v in values)
        yield f"gateway_cpu_ms = {_num(round(statistics.median(values), 3))}"
        source = f"bench: {scenario}, median of {len(values)} runs ({listed})"
        yield f"gateway_cpu_source = {_str(source)}"
    else:
        yield f"gateway_cpu_ms = {_num(phase['gateway_cpu_ms'])}"
        yield f"gateway_cpu_source = {_str(f'redis-ops: {kind} (no such bench scenario)')}"
    # The same kind in bench.redis_ops: rate limits on (bench runs without), warm = a response-
    # cache miss and store (bench: the response cache off), 8 requests at a time.
    yield f"gateway_cpu_ms_redis_ops = {_num(phase['gateway_cpu_ms'])}"
    yield f"redis_cpu_ms = {_num(phase['redis_cpu_ms'])}"
    yield f"redis_commands = {_num(phase['redis_commands'])}"
    trips = round(sum(monitored.values()), 3)
    yield f"redis_round_trips = {_num(trips)}"
    yield f"redis_bytes = {_num(round(phase['redis_bytes_in'] + phase['redis_bytes_out']))}"
    hot = phases[kind.split("-", maxsplit=1)[0] + "-hot"]
    yield f"response_bytes = {_num(round(hot['redis_bytes_out']))}"
    source = f"redis-ops: {kind} ({phase['requests']} requests; trips from MONITOR)"
    yield f"redis_source = {_str(source)}"
    by_name = ", ".join(f"{k} {v:g}" for k, v in phase["redis_commands_by_name"].items())
    yield f"# commands executed: {by_name}"
    if monitored:
        yield "# sent, by subsystem: " + ", ".join(f"{k} {v:g}" for k, v in monitored.items())
    if phase.get("cache_backend_errors"):
        yield f"# warning: {phase['cache_backend_errors']:g} Redis calls failed in this phase"
    yield f"[costs.{kind}.agency_calls]"
    for agency, calls in phase["agency_calls_by_agency"].items():
        yield f"{agency} = {_num(calls)}"
    yield ""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.capacity.collect", description="Write measured.toml from runs."
    )
    parser.add_argument("--bench", type=Path, nargs="+", required=True, help="bench --json files")
    parser.add_argument("--redis-ops", type=Path, required=True, help="redis_ops --json file")
    parser.add_argument("--bench-command", required=True, help="the bench command, as run")
    parser.add_argument("--bench-conditions", default="", help="load average, what else ran")
    parser.add_argument(
        "--redis-ops-command",
        default="python -m bench.redis_ops --json PATH",
        help="the redis_ops command, as run",
    )
    parser.add_argument("--redis-ops-conditions", default="", help="what else ran")
    parser.add_argument("--out", type=Path, default=MEASURED_PATH, help="where to write")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    runs = [json.loads(path.read_text(encoding="utf-8")) for path in args.bench]
    ops = json.loads(args.redis_ops.read_text(encoding="utf-8"))
    args.out.write_text(
        measured_toml(
            runs,
            ops,
            bench_command=args.bench_command,
            bench_conditions=args.bench_conditions,
            redis_ops_command=args.redis_ops_command,
            redis_ops_conditions=args.redis_ops_conditions,
        ),
        encoding="utf-8",
    )
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
