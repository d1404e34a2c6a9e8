"""`python -m bench.redis_ops` counts what each kind of request costs Redis and the agencies.

A short run of the tool as a developer starts it (its own redis-server, sandbox and gateway),
checked against what the gateway must do for each kind of request: a hot answer is one
response-cache read and no agency call; a warm one reads every agency answer from Redis and
calls no agency; a cold one calls every agency, reads, leases and stores each answer. A count
that drifts from these (a cache layer skipped, a lease not released, a read per field instead of
per agency answer) fails here, and the capacity model's Redis figures would be wrong with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import AGENCY_IDS
from tests.redis_server import find_redis_server, redis_unavailable

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 6
MONITORED = 3


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if find_redis_server() is None:
        redis_unavailable("bench.redis_ops starts its own redis-server, and none was found")
    out = tmp_path_factory.mktemp("redis-ops") / "ops.json"
    argv = [sys.executable, "-m", "bench.redis_ops", "--requests", str(REQUESTS)]
    argv += ["--monitor-requests", str(MONITORED), "--concurrency", "2", "--idle-s", "1"]
    argv += ["--json", str(out)]
    done = subprocess.run(argv, check=False, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"bench.redis_ops failed:\n{done.stdout}\n{done.stderr}"
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


@pytest.mark.redis
def test_cold_requests_call_every_agency_and_store_each_answer(report: dict[str, Any]) -> None:
    cold = report["phases"]["me-cold"]
    calls = cold["agency_calls_by_agency"]
    assert set(calls) == set(AGENCY_IDS)
    # vehicles, fines and the driving licence; the land registry pages (≥ 1 call)
    assert 3 <= calls["traffic-police"] < 3.5
    assert all(n >= 1 for n in calls.values()), calls
    assert cold["cache_backend_errors"] == 0
    sent = report["monitored_per_request"]["me-cold"]
    # one read, one lease taken and released, one write per agency answer (18 for `me`)
    for family in ("agency-data get", "agency-data set", "lease set", "lease eval"):
        assert sent[family] == 18, (family, sent)
    assert report["monitored_per_request"]["home-cold"]["agency-data get"] == 9


@pytest.mark.redis
def test_hot_requests_are_one_response_cache_read(report: dict[str, Any]) -> None:
    for phase in ("me-hot", "home-hot"):
        row = report["phases"][phase]
        assert row["agency_calls"] < 0.5, row  # (a health probe may land in the phase)
        sent = report["monitored_per_request"][phase]
        assert sent["response get"] == 1, sent
        assert "agency-data get" not in sent, sent
        assert sent["ratelimit evalsha"] == 2, sent  # the minute and second request windows
        assert sent["audit xadd"] >= 1, sent  # a served answer is still an audited access


@pytest.mark.redis
def test_warm_requests_read_every_answer_from_redis_and_keep_the_response(
    report: dict[str, Any],
) -> None:
    for phase, answers in (("me-warm", 18), ("home-warm", 9)):
        assert report["phases"][phase]["agency_calls"] < 0.5
        sent = report["monitored_per_request"][phase]
        assert sent["agency-data get"] == answers, sent
        assert sent["response get"] == 1 and sent["response set"] == 1, sent


@pytest.mark.redis
def test_redis_memory_is_counted_per_agency(report: dict[str, Any]) -> None:
    memory = report["redis_memory_after_me_cold"]
    assert memory["citizens"] == REQUESTS + 1
    for agency in AGENCY_IDS:
        row = memory["by_family"][agency]
        assert row["keys"] >= 1 and row["bytes"] > 0, (agency, row)
    # The process's audit stream, read for the bytes one record takes: its records come in
    # batches, so the last requests' may not be in it yet.
    audit = memory["by_family"]["audit"]
    assert audit["keys"] == 1 and audit["entries"] >= 1 and audit["bytes"] > 0, audit
