"""The metrics design for several workers, with real processes in prometheus-client's
multiprocess mode: counters summed over every worker (dead ones too: a replacement neither loses
nor doubles), each gauge combined as it says, nothing labelled by pid, process series per slot.

The worker processes here are small scripts using the gateway's `Metrics`, each a fresh
interpreter with PROMETHEUS_MULTIPROC_DIR set (as the supervisor starts workers); the scrape is
read in this process through `Metrics(multiprocess_dir=…)`, which is what /metrics serves.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.multiprocess import mark_process_dead

from observability.metrics import Metrics
from observability.worker_processes import write_worker_pids

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import os, sys
from prometheus_client import Gauge
from observability.metrics import Metrics

requests, in_flight, circuit, up = (int(a) for a in sys.argv[1:5])
m = Metrics()
m.graphql_requests.labels("ok").inc(requests)
for _ in range(requests):
    m.graphql_request_duration.observe(0.02)
m.graphql_in_flight.inc(in_flight)
m.agency_circuit_state.labels("water").set(circuit)
m.cache_memory_bytes.set(1000 * in_flight)
m.agency_state.labels("water", "UP").set(up)
m.agency_state.labels("water", "DOWN").set(1 - up)
m.agency_failure_ratio.labels("water").set(float("nan") if up else 0.5)
if "--every-gauge" in sys.argv:
    for gauge in vars(m).values():
        if isinstance(gauge, Gauge):
            (gauge.labels(*["x"] * len(gauge._labelnames)) if gauge._labelnames else gauge).set(1)
print(os.getpid())
"""


def _worker(directory: Path, *args: object) -> int:
    """Run one worker to completion; its pid (its files stay, as a killed worker's do)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, *map(str, args)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path


def test_counters_sum_over_workers_and_survive_their_death(directory: Path) -> None:
    scrape = Metrics(multiprocess_dir=str(directory)).registry

    def value(name: str, **labels: str) -> float | None:
        return scrape.get_sample_value(name, labels)

    first = _worker(directory, 3, 2, 0, 1)
    time.sleep(0.01)  # the second worker's gauges are the more recent
    second = _worker(directory, 4, 1, 2, 0)
    assert value("panjereh_graphql_requests_total", outcome="ok") == 7
    assert value("panjereh_graphql_request_duration_seconds_count") == 7
    assert value("panjereh_graphql_request_duration_seconds_bucket", le="0.025") == 7
    assert value("panjereh_graphql_requests_in_flight") == 3  # livesum
    assert value("panjereh_cache_memory_bytes") == 3000  # livesum
    assert value("panjereh_agency_circuit_state", agency="water") == 2  # livemax: any open
    assert value("panjereh_agency_state", agency="water", state="UP") == 0  # livemostrecent
    assert value("panjereh_agency_state", agency="water", state="DOWN") == 1
    assert value("panjereh_agency_failure_ratio", agency="water") == 0.5

    mark_process_dead(second, str(directory))  # the supervisor does this when a worker exits
    assert value("panjereh_graphql_requests_total", outcome="ok") == 7  # its counts stay
    assert value("panjereh_graphql_requests_in_flight") == 2  # its in-flight requests do not
    assert value("panjereh_agency_circuit_state", agency="water") == 0
    assert value("panjereh_agency_state", agency="water", state="UP") == 1  # the live worker's

    _worker(directory, 5, 0, 0, 1)  # the replacement
    assert value("panjereh_graphql_requests_total", outcome="ok") == 12  # neither lost nor doubled
    mark_process_dead(first, str(directory))
    assert value("panjereh_graphql_requests_total", outcome="ok") == 12


def test_every_gauge_says_how_workers_combine(directory: Path) -> None:
    """A gauge left in prometheus-client's default mode (`all`) would be exported per pid:
    a series per worker that changes name on every restart."""
    _worker(directory, 1, 1, 0, 1, "--every-gauge")
    _worker(directory, 1, 1, 0, 1, "--every-gauge")
    text = generate_latest(Metrics(multiprocess_dir=str(directory)).registry).decode()
    assert "panjereh_agency_bulkhead_capacity" in text and "panjereh_audit_pending" in text
    assert 'pid="' not in text
    assert "panjereh_build_info{" in text and "python_info{" in text
    assert "python_gc_" not in text  # one worker's, it would pass for the host's


def test_process_series_come_from_the_live_workers(directory: Path) -> None:
    """Not the answering worker's own ProcessCollector: every worker the supervisor lists."""
    write_worker_pids(directory, {0: os.getpid()})
    scrape = Metrics(multiprocess_dir=str(directory)).registry
    assert scrape.get_sample_value("process_resident_memory_bytes", {"worker": "0"})
    assert scrape.get_sample_value("process_resident_memory_bytes") is None  # no unlabelled one
