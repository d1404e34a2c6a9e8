"""Gateways as production runs them: `python server.py serve` processes in production mode, in
front of a `python -m sandbox` process, sharing a Redis, trusting a test identity provider.

Each instance keeps its name, port and audit file across restarts (its chain continues), and
writes its log (JSON lines) to a file the test reads afterwards (the drain's two lines).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.processes import ROOT, Children, free_port, start_sandbox
from sandbox import sample_national_codes
from sandbox.people import person_for
from tests.redis_server import delete_namespace, redis_client, unique_namespace
from tests.support.signing import SigningKey, citizen_claims, production_tokens, service_claims

__all__ = [
    "FAST",
    "SLOW",
    "SLOW_POST",
    "GatewayProcess",
    "ProductionFleet",
    "citizens_with_an_address",
    "drain_lines",
    "drain_settings",
    "sandbox_process",
    "set_fault",
]

AUDIT_KEY = "audit-key-of-the-drain-tests-at-least-32-bytes"
FAST = "{ me { profile { firstName } } }"
SLOW = "{ me { address { postalCode } } }"  # the post agency, made slow with `SLOW_POST`
"""Ask it for a citizen of `citizens_with_an_address`, a different one each time."""
SLOW_POST = {"mode": "slow", "latency_p50_ms": 1500, "latency_p99_ms": 1900}
_PR_SET_PDEATHSIG = 1
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def drain_settings(grace_s: float, quiet_s: float) -> dict[str, str]:
    """The drain's settings; probes patient enough for the slow post agency."""
    return {
        "PANJEREH_PROBES__TIMEOUT_S": "5",
        "PANJEREH_SHUTDOWN_GRACE_S": str(grace_s),
        "PANJEREH_SHUTDOWN_QUIET_S": str(quiet_s),
    }


def citizens_with_an_address(count: int) -> list[str]:
    """Sandbox citizens the post agency has an address for: each slow query is asked for a
    citizen of its own, so that no cache and no singleflight makes it fast."""
    codes = [code for code in sample_national_codes(count * 2) if person_for(code).address]
    if len(codes) < count:
        raise RuntimeError(f"only {len(codes)} of {count * 2} sample citizens have an address")
    return codes[:count]


@contextlib.contextmanager
def sandbox_process() -> Iterator[tuple[dict[str, str], str]]:
    """`python -m sandbox` in its own process: its agencies' URLs and its admin URL."""
    with Children(print) as children:
        _, agencies, admin = start_sandbox(children, (0, 0))
        yield agencies, admin


@pytest.fixture
def sandbox() -> Iterator[tuple[dict[str, str], str]]:
    """The sandbox agencies in a process of their own: (agency URLs, admin URL)."""
    with sandbox_process() as agencies_and_admin:
        yield agencies_and_admin


@pytest.fixture
async def namespace(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of the test's own on the test Redis, deleted afterwards."""
    name = unique_namespace()
    async with redis_client(redis_url) as client:
        try:
            yield name
        finally:
            await delete_namespace(client, name)


async def set_fault(admin: str, agency: str, spec: dict[str, Any]) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.put(f"{admin}/agencies/{agency}/fault", json=spec) as response,
    ):
        if response.status != 200:
            raise RuntimeError(f"sandbox refused the fault: {await response.text()}")


def drain_lines(gateway: GatewayProcess) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The drain's two log lines (started, ended) of each run of the gateway, oldest first."""
    lines = [r for r in gateway.log_lines() if r.get("logger") == "panjereh.drain"]
    started = [r for r in lines if str(r.get("message", "")).startswith("drain started")]
    ended = [r for r in lines if str(r.get("message", "")).startswith("drain ended")]
    return list(zip(started, ended, strict=True))


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _status(url: str) -> int | None:
    """The HTTP status of a GET, None when nothing answers."""
    try:
        with _OPENER.open(url, timeout=1.0) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


@dataclass
class GatewayProcess:
    """One gateway instance: `start`, `terminate` (SIGTERM), `wait`, `start` again."""

    name: str
    port: int
    env: dict[str, str]
    state_dir: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / f"{self.name}.log"

    @property
    def audit_path(self) -> Path:
        return self.state_dir / f"{self.name}.audit.jsonl"

    def start(self, timeout_s: float = 60) -> float:
        """Start the process and wait until `/readyz` answers 200; the seconds it took."""
        started = time.monotonic()
        self.starts += 1
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "server.py", "serve"],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
            )
        while time.monotonic() - started < timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start: {self.log_tail()}")
            if _status(f"{self.url}/readyz") == 200:
                return time.monotonic() - started
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} not ready within {timeout_s} s: {self.log_tail()}")

    def readyz(self) -> int | None:
        return _status(f"{self.url}/readyz")

    def terminate(self) -> None:
        """SIGTERM, as an orchestrator stops a pod."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout_s: float) -> int:
        """The exit status, once the process has exited."""
        assert self.process is not None
        return self.process.wait(timeout_s)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (other lines skipped)."""
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    records.append(record)
        return records

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def audit_records(self) -> list[dict[str, Any]]:
        if not self.audit_path.exists():
            return []
        return [json.loads(line) for line in self.audit_path.read_bytes().splitlines() if line]


@dataclass
class ProductionFleet:
    """What every instance shares: agencies, Redis, namespace, the identity provider's key."""

    agencies: dict[str, str]
    redis_url: str
    namespace: str
    state_dir: Path
    settings: dict[str, str] = field(default_factory=dict)
    """More `PANJEREH_*` variables, for every instance."""
    key: SigningKey = field(default_factory=lambda: SigningKey.generate("drain-tests"))
    instances: list[GatewayProcess] = field(default_factory=list)

    def token(self, national_code: str) -> str:
        return self.key.sign(citizen_claims(national_code, ttl_s=3600))

    def service_token(self, client_id: str, scope: str) -> str:
        return self.key.sign(service_claims(client_id, scope, ttl_s=3600))

    def instance(self, name: str) -> GatewayProcess:
        """A new instance (not started) on a port of its own."""
        pem = [str(self.key.write_pem(self.state_dir))]
        tokens = production_tokens(pem_files=pem, service_pem_files=pem)
        env = {
            "PANJEREH_MODE": "production",
            "PANJEREH_HOST": "127.0.0.1",
            "PANJEREH_PORT": str(free_port()),
            # One process an instance (production's default is one per core): the tests signal
            # it and read its drain's lines; tests/integration/test_workers_serve.py covers
            # several workers behind one supervisor.
            "PANJEREH_WORKERS": "1",
            "PANJEREH_LOG_FORMAT": "json",
            "PANJEREH_AGENCY_URLS": json.dumps(self.agencies),
            "PANJEREH_REDIS_URL": self.redis_url,
            "PANJEREH_CACHE_NAMESPACE": self.namespace,
            "PANJEREH_CACHE_KEY_SECRET": "shared-by-every-instance",
            # Instances, a sandbox, a balancer and the client share two cores here: a loaded
            # event loop must not be mistaken for a slow Redis.
            "PANJEREH_CACHE_TIMEOUT_S": "2",
            # Steady load from a few tokens is a load test here, not abuse.
            "PANJEREH_RATE_LIMITS__ENABLED": "false",
            "PANJEREH_TOKENS": json.dumps(tokens),
            "PANJEREH_AUDIT__PATH": str(self.state_dir / f"{name}.audit.jsonl"),
            "PANJEREH_AUDIT__KEY_SECRET": AUDIT_KEY,
            "PANJEREH_AUDIT__INSTANCE_ID": name,
            **self.settings,
        }
        gateway = GatewayProcess(name, int(env["PANJEREH_PORT"]), env, self.state_dir)
        self.instances.append(gateway)
        return gateway

    def close(self) -> None:
        for gateway in self.instances:
            gateway.kill()
