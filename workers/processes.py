"""Real worker processes: `python server.py …` started again, once per slot.

Why a new interpreter per worker (subprocess) rather than `multiprocessing` or `fork`:
- a worker is exactly the single-process gateway (`server.py serve`, the same arguments and
  environment), so whatever one process does on SIGTERM (aiohttp's graceful exit, the drain)
  each worker does, and nothing of the supervisor's state leaks into it;
- prometheus-client picks its multiprocess value store when it is imported, from
  PROMETHEUS_MULTIPROC_DIR: a fresh interpreter with that variable in its environment gets it
  right, where a forked child would inherit the parent's already-imported module;
- nothing has to be pickled (settings hold secrets), and signals, exit statuses and pids are
  the operating system's own, which is what a supervisor watches.

Each worker runs in its own process group (a Ctrl-C in the terminal reaches only the
supervisor, which forwards it once: a second signal would cut a worker's shutdown short) and
asks the kernel for SIGTERM if the supervisor dies (PR_SET_PDEATHSIG, Linux), so no worker
outlives it. Its output goes where the supervisor's goes. It reports being ready by writing to a
pipe whose end it inherits (`READY_FD_ENV`), once its socket is bound.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "READY_FD_ENV",
    "SLOT_ENV",
    "SandboxProcess",
    "SubprocessWorker",
    "WorkerCommand",
]

SLOT_ENV = "PANJEREH_WORKER_SLOT"
"""Set by the supervisor: this process is worker number N (it serves; it never supervises)."""
READY_FD_ENV = "PANJEREH_WORKER_READY_FD"
"""Set by the supervisor: the inherited pipe end to write to once the socket is bound."""

_PR_SET_PDEATHSIG = 1
_LIBC = (
    ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if sys.platform == "linux"
    else None
)


def _die_with_supervisor() -> None:
    """Runs in the child between fork and exec: SIGTERM me when the supervisor goes away."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _popen(
    argv: Sequence[str], env: Mapping[str, str], **kwargs: object
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        list(argv),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        process_group=0,
        preexec_fn=_die_with_supervisor if _LIBC is not None else None,  # noqa: PLW1509
        **kwargs,
    )


class SubprocessWorker:
    """One worker process and the read end of its readiness pipe."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        try:
            self._proc = _popen(argv, {**env, READY_FD_ENV: str(write_end)}, pass_fds=(write_end,))
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)  # the worker holds the only write end: EOF when it dies
        self._ready_fd: int | None = read_end
        self._ready = False

    @property
    def pid(self) -> int:
        return self._proc.pid

    def exit_code(self) -> int | None:
        return self._proc.poll()

    def is_ready(self) -> bool:
        if self._ready or self._ready_fd is None:
            return self._ready
        try:
            said = os.read(self._ready_fd, 64)
        except BlockingIOError:
            return False
        self._ready = bool(said)  # b"": it closed the pipe (exited) without saying so
        self._close_pipe()
        return self._ready

    def send_signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(signum)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._proc.kill()

    def close(self) -> None:
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self._ready_fd is not None:
            os.close(self._ready_fd)
            self._ready_fd = None


class WorkerCommand:
    """How to start the worker of a slot: this interpreter, `server.py`, the supervisor's own
    arguments, and its environment plus the worker's variables."""

    def __init__(
        self, script: Path, arguments: Sequence[str], environment: Mapping[str, str]
    ) -> None:
        self.argv = [sys.executable, str(script), *arguments]
        self.environment = dict(environment)

    def __call__(self, slot: int) -> SubprocessWorker:
        return SubprocessWorker(self.argv, {**self.environment, SLOT_ENV: str(slot)})


class SandboxProcess:
    """`python -m sandbox` on ephemeral loopback ports, for several development workers: the
    sandbox must run once, not once per worker, and every worker must call the same agencies.
    Its first stdout line (the URL map) goes to a temporary file, read back here."""

    def __init__(self, latency_ms: tuple[int, int], *, timeout_s: float = 60.0) -> None:
        low, high = latency_ms
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 (open while the sandbox runs)
        argv = [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0"]
        self._proc = _popen([*argv, "--latency-ms", f"{low}-{high}"], os.environ, stdout=self._out)
        try:
            urls = json.loads(self._first_line(timeout_s))
            self.agencies: dict[str, str] = {str(k): str(v) for k, v in urls["agencies"].items()}
            self.admin_url = str(urls["admin"])
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self._proc.pid

    def exit_code(self) -> int | None:
        return self._proc.poll()

    def _first_line(self, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            # pread: the file offset is shared with the sandbox, which must go on appending
            first, newline, _ = os.pread(self._out.fileno(), 65536, 0).partition(b"\n")
            if newline:
                return first.decode()
            if self._proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited with status {self._proc.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"the sandbox printed no URLs within {timeout_s:.0f} s")

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._out.close()
