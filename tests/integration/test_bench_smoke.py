"""The benchmark runs end to end: its children start, it measures, and the gateway answers.

Short runs of `python -m bench` as a subprocess, as a developer would start it. The first fails
if the benchmark cannot start its children, if a scenario measured nothing, or if the gateway's
answers to the ME query carried errors or the status page was not served (a benchmark of
failures would look fast). The
second runs one outage scenario (tax hanging, its circuit forced open) and fails if the gateway
still called tax, or if any answer carried more than the expected CIRCUIT_OPEN for tax (and the
NOT_FOUNDs of generated citizens).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _report(tmp_path: Path, scenarios: str, *more: str) -> dict[str, Any]:
    """`python -m bench` for one second per scenario; its JSON report."""
    out = tmp_path / "bench.json"
    argv = [sys.executable, "-m", "bench", "--duration", "1", "--warmup", "0"]
    argv += ["--concurrency", "4", "--scenarios", scenarios, "--json", str(out), *more]
    done = subprocess.run(argv, check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"bench failed:\n{done.stdout}\n{done.stderr}"
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def _bench(tmp_path: Path, scenarios: str) -> dict[str, Any]:
    """Its figures by scenario."""
    figures: dict[str, Any] = _report(tmp_path, scenarios)["scenarios"]
    return figures


def test_bench_measures_bare_me_warm_and_status_without_errors(tmp_path: Path) -> None:
    figures = _bench(tmp_path, "bare,me-warm,status")
    assert set(figures) == {"bare", "me-warm", "status"}
    for name, scenario in figures.items():
        assert scenario["requests"] > 0, (name, scenario)
        assert scenario["rps"] > 0, (name, scenario)
        assert scenario["errors"] == 0, (name, scenario["error_kinds"], scenario["error_sample"])
    assert figures["me-warm"]["ratio_to_bare"] > 0
    assert figures["status"]["ratio_to_bare"] > 0


def test_bench_open_circuit_makes_no_upstream_calls(tmp_path: Path) -> None:
    figures = _bench(tmp_path, "hang-open-cold")
    assert set(figures) == {"hang-open-cold"}
    scenario = figures["hang-open-cold"]
    outage = scenario["outage"]
    requests = scenario["requests"]
    assert requests > 0, scenario
    assert scenario["errors"] == 0, (scenario["error_kinds"], scenario["error_sample"])
    assert outage["agency"] == "tax"
    assert outage["circuit_seen"] == {"start": "OPEN", "end": "OPEN", "forced": True}, outage
    # Zero upstream calls while open: in the measured window and over the whole scenario.
    assert outage["upstream_calls_window"] == 0, outage
    assert outage["upstream_calls_scenario"] == 0, outage
    # Every answer came at once without its tax part, for the expected reason.
    assert scenario["parts"] == {"missing": requests}, scenario["parts"]
    assert scenario["tolerated_kinds"]["CIRCUIT_OPEN(tax)"] == requests
    assert scenario["unfinished"] == 0


@pytest.mark.slow
def test_bench_with_two_workers_counts_both_processes(tmp_path: Path) -> None:
    """`--workers 2` starts the supervised gateway; server cpu is the supervisor's whole tree."""
    report = _report(tmp_path, "me-warm", "--workers", "2")
    assert report["parameters"]["workers"] == 2
    scenario = report["scenarios"]["me-warm"]
    assert scenario["requests"] > 0 and scenario["errors"] == 0, scenario
    # the workers' CPU, not the supervisor's alone (which polls them: well under 1 % of a core)
    assert scenario["cpu_percent"]["server"] > 10, scenario


def test_bench_refuses_outage_scenarios_with_several_workers() -> None:
    argv = [sys.executable, "-m", "bench", "--scenarios", "hang-open-cold", "--workers", "2"]
    done = subprocess.run(argv, check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--workers 1" in done.stderr
