"""What a worker takes from the supervisor: its slot, its own audit chain, the readiness pipe;
how many workers a configuration means; the per-worker process series read from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from observability.worker_processes import (
    WorkerProcessCollector,
    read_worker_pids,
    write_worker_pids,
)
from settings import Settings
from workers.cores import cgroup_cpu_limit, usable_cores
from workers.processes import READY_FD_ENV, SLOT_ENV
from workers.worker import WorkerIdentity, settings_for_slot

PRODUCTION = {
    "mode": "production",
    "agency_urls": {"water": "http://127.0.0.1:9"},
    "cache_key_secret": "k" * 32,
    "tokens": {
        "issuers": ["https://sso.test.example"],
        "service_issuers": [],
        "jwks_url": "https://sso.test.example/jwks",
    },
    "audit": {"path": "/var/lib/panjereh/audit.jsonl", "key_secret": "a" * 32},
}


def test_one_worker_in_development_one_per_core_in_production_unless_set() -> None:
    assert Settings().worker_count == 1
    assert Settings(**PRODUCTION).worker_count == usable_cores() >= 1
    assert Settings(**PRODUCTION, workers=3).worker_count == 3
    assert Settings(workers=4).worker_count == 4
    with pytest.raises(ValidationError, match="workers"):
        Settings(workers=0)


def test_a_cgroup_quota_caps_the_cores(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(tmp_path) is None  # no cgroup files: no quota
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_limit(tmp_path) == 1.5
    assert usable_cores(tmp_path) == min(2, len(os.sched_getaffinity(0)))  # 1.5 CPUs: 2
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert usable_cores(tmp_path) == 1
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")  # cgroup v1, no quota
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    assert cgroup_cpu_limit(tmp_path) == 1.0 and usable_cores(tmp_path) == 1


def test_workers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANJEREH_WORKERS", "2")
    assert Settings().worker_count == 2


def test_identity_comes_only_from_the_supervisor_s_variables() -> None:
    assert WorkerIdentity.from_environ({}) is None
    assert WorkerIdentity.from_environ({SLOT_ENV: "3"}) == WorkerIdentity(3, None)
    assert WorkerIdentity.from_environ({SLOT_ENV: "1", READY_FD_ENV: "7"}) == WorkerIdentity(1, 7)


def test_slot_0_keeps_the_audit_chain_others_get_their_own() -> None:
    settings = Settings(**PRODUCTION)
    assert settings_for_slot(settings, 0) is settings
    second = settings_for_slot(settings, 2)
    assert second.audit.file_path == Path("/var/lib/panjereh/audit.w2.jsonl")
    assert second.audit.chain_id == f"{settings.audit.chain_id}-w2"
    assert second.audit.key == settings.audit.key  # same key: one accessLog, one verifier
    assert settings.audit.file_path == Path("/var/lib/panjereh/audit.jsonl")  # not changed
    named = Settings(audit={"instance_id": "x" * 64})
    assert settings_for_slot(named, 11).audit.chain_id == "x" * 60 + "-w11"


def test_ready_notifier_writes_once_and_closes_its_end() -> None:
    read_end, write_end = os.pipe()
    try:
        ready = WorkerIdentity(0, write_end).ready_notifier()
        assert ready is not None
        ready()
        ready()  # serve calls it once; a second call must not write to a closed fd
        assert os.read(read_end, 64) == b"ready\n"
        assert os.read(read_end, 64) == b""  # EOF: the write end is closed
    finally:
        os.close(read_end)
    assert WorkerIdentity(0, None).ready_notifier() is None


def test_worker_pids_file_round_trip(tmp_path: Path) -> None:
    assert read_worker_pids(tmp_path) == {}
    write_worker_pids(tmp_path, {1: 222, 0: 111})
    assert read_worker_pids(tmp_path) == {"0": 111, "1": 222}
    write_worker_pids(tmp_path, {0: 333})
    assert read_worker_pids(tmp_path) == {"0": 333}
    assert [p.name for p in tmp_path.iterdir()] == ["workers.json"]  # no partial file left


def test_process_series_of_every_live_worker_labelled_by_slot(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        write_worker_pids(tmp_path, {0: os.getpid(), 1: child.pid, 2: 2**22 + 7})  # 2: gone
        families = {f.name: f for f in WorkerProcessCollector(tmp_path).collect()}
        rss = {
            s.labels["worker"]: s.value for s in families["process_resident_memory_bytes"].samples
        }
        assert set(rss) == {"0", "1"}  # nothing for a pid that does not exist
        assert all(value > 0 for value in rss.values())
        cpu = families["process_cpu_seconds"]
        assert cpu.type == "counter"
        assert {s.name for s in cpu.samples} == {"process_cpu_seconds_total"}
        starts = {
            s.labels["worker"]: s.value for s in families["process_start_time_seconds"].samples
        }
        assert starts["1"] >= starts["0"]  # the child started after this test process
    finally:
        child.kill()
        child.wait()


def test_the_command_line_takes_workers_before_or_after_serve() -> None:
    from server import _parser, _settings_from

    for argv in (["serve", "--workers", "3"], ["--workers", "3", "serve"], ["--workers", "3"]):
        assert _settings_from(_parser().parse_args(argv)).worker_count == 3, argv
    assert _settings_from(_parser().parse_args(["serve"])).worker_count == 1
