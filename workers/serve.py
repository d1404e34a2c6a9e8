"""`serve --workers N` with N > 1: the supervising process around N single-process gateways.

It binds nothing itself: every worker binds the same host and port with SO_REUSEPORT and the
kernel spreads new connections over them. Before starting any, it checks that the port is free
(SO_REUSEPORT would otherwise let the workers quietly share it with a gateway still running).

What workers share and what they do not:
- prometheus-client's multiprocess mode, in a directory made fresh for this run and removed at
  its end (inside PROMETHEUS_MULTIPROC_DIR when that is set, e.g. a Kubernetes emptyDir), so
  /metrics on any worker shows the whole host (observability.metrics);
- in development, the embedded sandbox runs once, as a process of its own started here, and
  every worker is given its URLs (PANJEREH_AGENCY_URLS), so all of them call the same agencies;
- caches, breakers, bulkheads and subscriptions stay per worker. Redis is the shared layer: with
  REDIS_URL every worker is an instance of the fleet (shared cache, probe lease, agency state,
  rate limits, forced circuits, APQ). Without it each worker keeps its own: each probes every
  agency, judges agency state from what it alone saw, and counts rate limits on its own (a
  caller's budget is N times the configured one); a warning says so at start-up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from prometheus_client.multiprocess import mark_process_dead

from observability.worker_processes import write_worker_pids
from settings import Settings
from workers.processes import SandboxProcess, WorkerCommand
from workers.supervisor import RestartPolicy, StopRequest, Supervisor

__all__ = ["STOP_MARGIN_S", "serve_workers", "stop_timeout_s"]

log = logging.getLogger("panjereh.workers")

STOP_MARGIN_S = 2.0
"""Past the longest a worker's own shutdown may take: time for its flushes and exit."""


def stop_timeout_s(settings: Settings) -> float:
    """How long workers get after SIGTERM before they are killed: no less than a worker's own
    drain may take (the grace, then at most one request deadline for what is still in flight:
    server.serve), plus the margin. With the defaults 20 + 8 + 2 = 30 s, Kubernetes'
    terminationGracePeriodSeconds (grace + 10)."""
    last_requests = min(settings.shutdown_grace_s, settings.request_deadline_s)
    return settings.shutdown_grace_s + last_requests + STOP_MARGIN_S


def serve_workers(
    settings: Settings,
    arguments: Sequence[str],
    *,
    script: Path,
    banner: Callable[[str | None], str],
    policy: RestartPolicy | None = None,
) -> int:
    """Run `settings.worker_count` workers (each `script` with `arguments`) until SIGTERM or
    SIGINT; 0 after a clean stop, 1 if workers kept failing to start, 2 for a bad setup.
    `banner(sandbox admin URL or None)` is printed once every worker is ready."""
    count = settings.worker_count
    problem = _setup_problem(settings)
    if problem:
        log.error("cannot start %d workers: %s", count, problem)
        return 2
    if not settings.redis_url:
        log.warning(
            "%d workers without REDIS_URL: caches, agency state (each worker probes every "
            "agency), rate limits (each worker counts its own: N times the budget), forced "
            "circuits and persisted queries are per worker; set REDIS_URL to share them",
            count,
        )
    stop = StopRequest()
    stop.install()
    with contextlib.ExitStack() as cleanup:
        directory = cleanup.enter_context(_metrics_directory())
        environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
        sandbox: SandboxProcess | None = None
        if settings.embedded_sandbox:
            try:
                sandbox = SandboxProcess(settings.sandbox_latency_ms)
            except RuntimeError as exc:
                log.error("cannot start the sandbox agencies for the workers: %s", exc)
                return 1
            cleanup.callback(sandbox.stop)
            environment["PANJEREH_AGENCY_URLS"] = json.dumps(sandbox.agencies)
            log.info("sandbox agencies started (pid %d) for every worker", sandbox.pid)
        if stop.signum is not None:
            return 0
        supervisor: Supervisor

        def started(slot: int, pid: int) -> None:
            write_worker_pids(directory, supervisor.pids)

        def exited(slot: int, pid: int, code: int) -> None:
            mark_process_dead(pid, str(directory))  # its live gauges go; its counters stay
            write_worker_pids(directory, supervisor.pids)

        def ready() -> None:
            pids = ", ".join(str(pid) for _, pid in sorted(supervisor.pids.items()))
            admin = sandbox.admin_url if sandbox is not None else None
            print(f"{banner(admin)}\n  {count} workers on one port (pids {pids})", flush=True)

        def sandbox_gone() -> str | None:
            code = sandbox.exit_code() if sandbox is not None else None
            return None if code is None else f"the sandbox agencies exited (status {code})"

        supervisor = Supervisor(
            count,
            WorkerCommand(script, arguments, environment),
            policy=policy,
            sleep=stop.wait,
            on_started=started,
            on_exited=exited,
        )
        log.info("starting %d workers on %s:%d", count, settings.host, settings.port)
        return supervisor.run(
            stop, timeout_s=stop_timeout_s(settings), on_ready=ready, check=sandbox_gone
        )
    return 0  # not reached: the `with` returns or raises


def _setup_problem(settings: Settings) -> str | None:
    """Why N processes cannot share the configured address, or None."""
    if not hasattr(socket, "SO_REUSEPORT"):
        return "this system has no SO_REUSEPORT"
    if settings.port == 0:
        return "port 0 would give every worker a port of its own; set --port"
    try:
        addresses = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as exc:
        return f"{settings.host} does not resolve ({exc.strerror or exc})"
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                return f"{address[0]} port {settings.port} is in use ({exc.strerror or exc})"
    return None


@contextlib.contextmanager
def _metrics_directory() -> Iterator[Path]:
    """A fresh directory for this run's metric files (prometheus-client asks for one wiped
    between runs); removed at the end."""
    parent = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    path = Path(tempfile.mkdtemp(prefix="panjereh-metrics-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
