"""`python server.py serve --workers 2` for real: production settings, the sandbox started
separately (`python -m sandbox`), requests through the one shared port.

Both workers answer (`X-Panjereh-Worker`), /metrics counts every request once whichever worker
served it and whichever answers the scrape; a worker killed with SIGKILL is replaced while
requests keep succeeding, and its counts are neither lost nor doubled; SIGTERM to the
supervisor stops everything within the bound, status 0. Slow (~15-25 s: three gateway processes
start), so CI runs it and `bin/test --quick` does not.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.processes import Child, Children, free_port, start_sandbox
from sandbox import PERSONAS
from settings import Settings
from tests.support.signing import AUDIENCE, ISSUER, SigningKey, citizen_claims
from workers.serve import stop_timeout_s
from workers.worker import WORKER_HEADER

pytestmark = pytest.mark.slow

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
QUERY = "{ me { profile { firstName } } }"
SHUTDOWN_GRACE_S = 3.0


def _production_env(tmp_path: Path, agencies: dict[str, str], key: SigningKey) -> dict[str, str]:
    return {
        "PANJEREH_MODE": "production",
        "PANJEREH_AGENCY_URLS": json.dumps(agencies),
        "PANJEREH_TOKENS__ISSUERS": json.dumps([ISSUER]),
        "PANJEREH_TOKENS__SERVICE_ISSUERS": "[]",
        "PANJEREH_TOKENS__AUDIENCE": AUDIENCE,
        "PANJEREH_TOKENS__PEM_FILES": json.dumps([str(key.write_pem(tmp_path))]),
        "PANJEREH_CACHE_KEY_SECRET": "workers-test-cache-key-" + "k" * 32,
        "PANJEREH_AUDIT__PATH": str(tmp_path / "audit.jsonl"),
        "PANJEREH_AUDIT__KEY_SECRET": "workers-test-audit-key-" + "a" * 32,
        "PANJEREH_AUDIT__INSTANCE_ID": "workers-test",
        "PANJEREH_RATE_LIMITS__ENABLED": "false",
        "PANJEREH_SHUTDOWN_GRACE_S": str(SHUTDOWN_GRACE_S),
        "PANJEREH_LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
        "PANJEREH_REDIS_URL": "",
    }


def _get(url: str, *, data: bytes | None = None, token: str | None = None) -> tuple[int, str, str]:
    """One request on a new connection (so the kernel picks a worker for each); status, the
    answering worker's slot, body."""
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with _OPENER.open(request, timeout=10) as response:
            return (
                response.status,
                response.headers.get(WORKER_HEADER, ""),
                response.read().decode(),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get(WORKER_HEADER, ""), exc.read().decode()


def _graphql(base: str, token: str) -> tuple[int, str, dict[str, object]]:
    status, slot, body = _get(
        f"{base}/graphql", data=json.dumps({"query": QUERY}).encode(), token=token
    )
    return status, slot, json.loads(body)


def _counted_requests(base: str) -> float:
    _, _, text = _get(f"{base}/metrics")
    for family in text_string_to_metric_families(text):
        if family.name == "panjereh_graphql_requests":
            return sum(s.value for s in family.samples if s.name.endswith("_total"))
    return 0.0


def _process_series(base: str, name: str) -> dict[str, float]:
    _, _, text = _get(f"{base}/metrics")
    return {
        sample.labels["worker"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def _children_of(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry))
    return found


def _wait(condition: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    pytest.fail(f"{what} within {timeout_s:.0f} s")


def _slots_answering(base: str, tries: int = 40) -> set[str]:
    return {_get(f"{base}/healthz")[1] for _ in range(tries)}


@pytest.fixture
def children() -> Iterator[Children]:
    with Children(lambda message: print(message, file=sys.stderr)) as started:
        yield started


def test_two_workers_share_the_port_survive_a_kill_and_stop_on_sigterm(
    tmp_path: Path, children: Children
) -> None:
    _, agencies, _ = start_sandbox(children, (0, 0))
    key = SigningKey.generate("workers-test")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "server.py", "--host", "127.0.0.1", "--port", str(port)]
    gateway: Child = children.start(
        "gateway", [*argv, "serve", "--workers", "2"], _production_env(tmp_path, agencies, key)
    )
    gateway.wait_stdout("2 workers on one port", timeout_s=90)
    supervisor = gateway.pid
    workers = _children_of(supervisor)
    assert len(workers) == 2, workers
    token = key.sign(citizen_claims(PERSONAS["complete"], ttl_s=600))

    sent, slots = 0, set()
    for _ in range(30):
        status, slot, body = _graphql(base, token)
        sent += 1
        assert status == 200 and "errors" not in body and body["data"], body
        slots.add(slot)
    assert slots == {"0", "1"}  # the kernel spread the connections over both workers
    assert _counted_requests(base) == sent  # one scrape, whichever worker answers it
    assert {_counted_requests(base) for _ in range(6)} == {sent}
    assert set(_process_series(base, "process_cpu_seconds_total")) == {"0", "1"}
    started = _process_series(base, "process_start_time_seconds")

    victim = max(workers)
    os.kill(victim, signal.SIGKILL)
    # Reaped, not merely a zombie: the pid's other threads may still hold its listening
    # socket, and connections the kernel hands that socket meanwhile are reset.
    _wait(lambda: not Path(f"/proc/{victim}").exists(), 10, "the killed worker was not reaped")
    for _ in range(20):  # the other worker serves everything meanwhile
        status, slot, body = _graphql(base, token)
        sent += 1
        assert status == 200 and "errors" not in body, body
    _wait(lambda: len(_children_of(supervisor)) == 2, 15, "no replacement was started")
    replacement = (_children_of(supervisor) - workers).pop()
    _wait(lambda: _slots_answering(base, 10) == {"0", "1"}, 60, "the replacement never answered")
    assert _counted_requests(base) == sent  # the killed worker's counts kept, none twice
    restarted = _process_series(base, "process_start_time_seconds")
    assert set(restarted) == {"0", "1"}
    assert sum(restarted[s] != started[s] for s in ("0", "1")) == 1  # one slot has a new process

    gateway.proc.send_signal(signal.SIGTERM)
    bound = stop_timeout_s(Settings(shutdown_grace_s=SHUTDOWN_GRACE_S))
    began = time.monotonic()
    assert gateway.proc.wait(timeout=bound + 5) == 0
    assert time.monotonic() - began < bound
    for pid in (*workers - {victim}, replacement):
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived the supervisor"


def test_the_supervisor_exits_non_zero_when_workers_cannot_start(
    tmp_path: Path, children: Children
) -> None:
    """Every worker fails before serving (its audit file cannot be created): after a few tries
    with back-off the supervisor gives up with status 1, and leaves no worker behind."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = {
        "PANJEREH_AGENCY_URLS": json.dumps({"water": "http://127.0.0.1:9"}),
        "PANJEREH_AUDIT__PATH": str(blocker / "audit.jsonl"),
        "PANJEREH_LOG_LEVEL": "WARNING",
    }
    port = free_port()
    argv = [sys.executable, "server.py", "--port", str(port), "--workers", "2"]
    gateway = children.start("gateway", argv, env)
    assert gateway.proc.wait(timeout=120) == 1
    assert not _children_of(gateway.pid)


def test_a_port_in_use_or_port_0_is_refused_before_any_worker_starts(
    children: Children,
) -> None:
    port = free_port()
    busy = children.start("bare", [sys.executable, "-m", "bench.bare", "--port", str(port)])
    busy.wait_http_ok(f"http://127.0.0.1:{port}/graphql", timeout_s=30)
    env = {"PANJEREH_AGENCY_URLS": json.dumps({"water": "http://127.0.0.1:9"})}
    for chosen in (port, 0):
        argv = [sys.executable, "server.py", "--port", str(chosen), "--workers", "2"]
        refused = children.start(f"gateway-{chosen}", argv, env)
        assert refused.proc.wait(timeout=60) == 2
    assert _get(f"http://127.0.0.1:{port}/graphql", data=b"{}")[0] == 200  # still the other one's
