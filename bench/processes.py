"""Child processes for the benchmark: started on loopback, drained, measured, always terminated.

Each child runs in its own session (process group), so a Ctrl-C in the terminal reaches only the
benchmark, which then stops the children itself, in reverse order, from a `finally`. On Linux each
child also asks the kernel for SIGTERM when the benchmark dies (PR_SET_PDEATHSIG), so not even a
SIGKILLed benchmark (e.g. a test timeout) leaves orphans. Output is drained by threads, because
a child that fills its pipe blocks; the last lines are kept to explain a failed start.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

__all__ = [
    "ROOT",
    "Child",
    "ChildError",
    "Children",
    "free_port",
    "start_bare",
    "start_gateway",
    "start_sandbox",
]

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

_PR_SET_PDEATHSIG = 1
_LIBC = (
    ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if sys.platform == "linux"
    else None
)
# A direct opener: a proxy from the environment must never see loopback traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ChildError(RuntimeError):
    """A child failed to start or become ready; the message carries its last output."""


def free_port() -> int:
    """A loopback port that was free a moment ago (bind port 0, then close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGTERM me when the benchmark goes away."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One child process with drained output, readiness checks, CPU accounting and shutdown."""

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self._tail: deque[str] = deque(maxlen=40)
        self._stdout: list[str] = []  # all of it: children print little there (URLs, banners)
        self._first_line: str | None = None
        self._got_first_line = threading.Event()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env={**os.environ, **env} if env else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
            preexec_fn=_die_with_parent if _LIBC is not None else None,  # noqa: PLW1509
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, first in ((self.proc.stdout, True), (self.proc.stderr, False)):
            threading.Thread(
                target=self._drain, args=(stream, first), name=f"drain-{name}", daemon=True
            ).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _drain(self, stream: IO[str], is_stdout: bool) -> None:
        for line in stream:
            if is_stdout:
                self._stdout.append(line.rstrip("\n"))
            if is_stdout and self._first_line is None:
                self._first_line = line.strip()
                self._got_first_line.set()
            self._tail.append(line.rstrip("\n"))
        if is_stdout:
            self._got_first_line.set()  # EOF: wake a waiter, who then sees the exit

    def _failure(self, what: str) -> ChildError:
        tail = "\n".join(f"    {line}" for line in self._tail) or "    (no output)"
        code = self.proc.poll()
        state = f"exited with status {code}" if code is not None else "still running"
        return ChildError(f"{self.name} {what} ({state}); its last output:\n{tail}")

    def first_line(self, timeout_s: float) -> str:
        """The child's first stdout line (how the sandbox reports its URLs)."""
        if not self._got_first_line.wait(timeout_s) or self._first_line is None:
            raise self._failure(f"printed no first line within {timeout_s:.0f} s")
        return self._first_line

    def wait_stdout(self, text: str, timeout_s: float) -> str:
        """The first stdout line containing `text`, once printed (failing early on exit)."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = next((line for line in list(self._stdout) if text in line), None)
            if found is not None:
                return found
            if self.proc.poll() is not None:
                raise self._failure(f"exited before printing {text!r}")
            if time.monotonic() >= deadline:
                raise self._failure(f"did not print {text!r} within {timeout_s:.0f} s")
            time.sleep(0.05)

    def wait_http_ok(self, url: str, timeout_s: float) -> None:
        """Poll `url` until it answers 200, failing early if the child exits."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise self._failure(f"exited before {url} answered")
            try:
                with _OPENER.open(url, timeout=1.0) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise self._failure(f"did not answer 200 at {url} within {timeout_s:.0f} s")

    def cpu_seconds(self) -> float | None:
        """User+system CPU of the child and every live process below it (Linux /proc; else
        None).

        The whole tree, because a child may start workers of its own (`serve --workers N`
        puts each in a process group of its own, so the group would not find them).
        """
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        try:
            entries = os.listdir("/proc")
        except OSError:
            return None
        parents: dict[int, int] = {}
        ticks: dict[int, int] = {}
        for entry in entries:
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            # fields[1] is the parent pid; fields[11], [12] are utime and stime in ticks.
            parents[int(entry)] = int(fields[1])
            ticks[int(entry)] = int(fields[11]) + int(fields[12])
        tree = {self.proc.pid}
        grown = True
        while grown:
            below = {pid for pid, parent in parents.items() if parent in tree} - tree
            tree |= below
            grown = bool(below)
        return sum(ticks.get(pid, 0) for pid in tree) / tick

    def terminate(self, grace_s: float = 5.0) -> None:
        """SIGTERM the child's process group, then SIGKILL it if it lingers past `grace_s`."""
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(grace_s)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _signal_group(self, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)


class Children:
    """Every child started for a run; `close()` stops them all, the last-started first, and
    removes their state directory (`state_dir`: audit logs)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._children: list[Child] = []
        self._log = log
        self._state = tempfile.TemporaryDirectory(prefix="panjereh-run-")
        self.state_dir = self._state.name

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Child:
        child = Child(name, argv, env)
        self._children.append(child)
        return child

    def close(self) -> None:
        while self._children:
            child = self._children.pop()
            try:
                child.terminate()
            except Exception as exc:  # keep going: the others must still be stopped
                self._log(f"could not stop {child.name} (pid {child.pid}): {exc}")
        self._state.cleanup()

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_sandbox(
    children: Children, latency_ms: tuple[int, int]
) -> tuple[Child, dict[str, str], str]:
    """`python -m sandbox`; returns it, its agency id → base URL map and its admin URL (both from
    its first stdout line)."""
    low, high = latency_ms
    child = children.start(
        "sandbox",
        [
            sys.executable,
            "-m",
            "sandbox",
            "--host",
            HOST,
            "--port",
            "0",  # the admin app and each agency on its own ephemeral port, reported in line 1
            "--latency-ms",
            f"{low}-{high}",
        ],
    )
    line = child.first_line(timeout_s=60)
    try:
        urls = json.loads(line)
        agencies, admin = urls["agencies"], str(urls["admin"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ChildError(f"sandbox's first line is not its URL map: {line!r}") from exc
    return child, {str(k): str(v) for k, v in agencies.items()}, admin


def start_gateway(
    children: Children,
    agencies: dict[str, str],
    *,
    name: str = "gateway",
    env: Mapping[str, str] | None = None,
    workers: int = 1,
) -> tuple[Child, str]:
    """`python server.py --workers N` in front of the given agencies, with `env` added to the
    environment (e.g. `PANJEREH_AGENCY_POLICIES`); returns it and its base URL once ready (with
    several workers: once the supervisor says every one of them serves)."""
    port = free_port()
    audit = {  # each gateway its own audit chain and file, removed with the run
        "PANJEREH_AUDIT__PATH": f"{children.state_dir}/{name}-{port}.audit.jsonl",
        "PANJEREH_AUDIT__INSTANCE_ID": f"{name}-{port}",
    }
    child = children.start(
        name,
        [
            sys.executable,
            "server.py",
            "--host",
            HOST,
            "--port",
            str(port),
            "--agency-urls",
            json.dumps(agencies),
            "--log-level",
            "WARNING",
            "--workers",
            str(workers),
        ],
        {**audit, **(env or {})},
    )
    base = f"http://{HOST}:{port}"
    if workers > 1:
        child.wait_stdout(f"{workers} workers on one port", timeout_s=90)
    child.wait_http_ok(f"{base}/readyz", timeout_s=60)
    return child, base


def start_bare(children: Children) -> tuple[Child, str]:
    """`python -m bench.bare`; returns it and its base URL once it answers."""
    port = free_port()
    child = children.start("bare", [sys.executable, "-m", "bench.bare", "--port", str(port)])
    base = f"http://{HOST}:{port}"
    child.wait_http_ok(f"{base}/graphql", timeout_s=30)
    return child, base
