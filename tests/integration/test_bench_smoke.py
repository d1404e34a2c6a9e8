"""The benchmark runs end to end: its children start, it measures, and the gateway answers.

A short run of `python -m bench` as a subprocess, as a developer would start it; it fails if the
benchmark cannot start its children, if either scenario measured nothing, or if the gateway's
answers to the ME query carried errors (a benchmark of failures would look fast).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_measures_bare_and_me_warm_without_errors(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    argv = [sys.executable, "-m", "bench", "--duration", "1", "--warmup", "0"]
    argv += ["--concurrency", "4", "--scenarios", "bare,me-warm", "--json", str(out)]
    done = subprocess.run(argv, check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"bench failed:\n{done.stdout}\n{done.stderr}"
    figures = json.loads(out.read_text())["scenarios"]
    assert set(figures) == {"bare", "me-warm"}
    for name, scenario in figures.items():
        assert scenario["requests"] > 0, (name, scenario)
        assert scenario["rps"] > 0, (name, scenario)
        assert scenario["errors"] == 0, (name, scenario["error_kinds"], scenario["error_sample"])
    assert figures["me-warm"]["ratio_to_bare"] > 0
