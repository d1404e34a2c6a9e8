"""A real load balancer for tests: HAProxy from Debian, in front of gateway instances on loopback.

Where `haproxy` comes from (`require_haproxy`, once per session), as for the Prometheus tools:

1. PATH;
2. else, when the tests run as root with `apt-get` (CI here does), Debian's `haproxy` package is
   installed (its service is not started: the tests run their own process);
3. else, under `CI=true`, the test FAILS; elsewhere it is skipped with the reason.

HAProxy rather than nginx: open-source nginx has no active health checks, and the point here is
a balancer that stops sending to an instance whose `/readyz` fails. The configuration
(`haproxy_config`) checks `GET /readyz` every `check_interval_s`; two failed checks (a 503, or
no answer within a second) take a server out, two passing ones bring it back. The same servers
are behind two backends, each with a frontend and health checks of its own: `retrying` retries
connection failures only (`retry-on conn-failure`: refused or not established, so the request
never reached a gateway), each on another server (`option redispatch 1`), never after a timeout
or on a response already begun, where the request may have run; `plain` retries nothing, as a
balancer that cannot. Each answer says which server gave it (`X-Served-By`), and a request
with `X-Pin: <server>` goes to that server while it is up (the tests put a request in flight on
the instance they are about to stop).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from tests.prometheus_tools import _apt_install, tool_unavailable

__all__ = ["BACKENDS", "HAProxy", "haproxy_config", "require_haproxy"]

_HOST = "127.0.0.1"
# A direct opener: a proxy from the environment must never see loopback traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@cache
def _find_haproxy() -> tuple[str | None, str]:
    on_path = shutil.which("haproxy")
    if on_path:
        return on_path, "on PATH"
    if os.geteuid() != 0:
        return None, "no haproxy on PATH (as root: apt-get install haproxy)"
    if shutil.which("apt-get") is None:
        return None, "no haproxy on PATH and no apt-get to install Debian's haproxy"
    problem = _apt_install("haproxy")
    on_path = shutil.which("haproxy")
    if on_path:
        return on_path, "installed Debian's haproxy"
    return None, f"no haproxy on PATH and apt-get install haproxy failed: {problem}"


def require_haproxy() -> str:
    """The `haproxy` binary, or skip (fail under CI=true) saying why there is none."""
    path, how = _find_haproxy()
    if path is None:
        tool_unavailable(how)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


BACKENDS = {"retrying": True, "plain": False}
"""The two ways in, over the same servers: with retries after a connection failure, and
without any (how a balancer that cannot retry sees the same instances)."""


def haproxy_config(
    *,
    ports: Mapping[str, int],
    stats_port: int,
    servers: Mapping[str, int],
    check_interval_s: float = 0.25,
) -> str:
    """A frontend per backend of `BACKENDS` (on `ports[name]`), each balancing round-robin over
    `servers` (name → port) with health checks of its own, and the stats page (CSV at
    `/stats;csv`) on `stats_port`."""
    inter = f"{round(check_interval_s * 1000)}ms"
    lines = [
        "global",
        "    maxconn 4096",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 30s",
        "    timeout server 30s",
        "listen stats",
        f"    bind {_HOST}:{stats_port}",
        "    stats enable",
        "    stats uri /stats",
    ]
    for backend, retrying in BACKENDS.items():
        retries = ["    retries 3", "    retry-on conn-failure", "    option redispatch 1"]
        lines += [
            f"frontend {backend}",
            f"    bind {_HOST}:{ports[backend]}",
            f"    default_backend {backend}",
            f"backend {backend}",
            "    balance roundrobin",
            *(retries if retrying else ["    retries 0"]),
            "    option httpchk GET /readyz",
            "    http-check expect status 200",
            "    timeout check 1s",
            f"    default-server inter {inter} fall 2 rise 2",
            "    http-response set-header X-Served-By %[srv_name]",
            *(f"    use-server {n} if {{ req.hdr(X-Pin) -m str {n} }}" for n in servers),
            *(f"    server {name} {_HOST}:{port} check" for name, port in servers.items()),
        ]
    return "\n".join([*lines, ""])


class HAProxy:
    """An `haproxy` process in the foreground, balancing over `servers` (name → port) on a port
    of its own per backend (`urls`); `close()` stops it."""

    def __init__(
        self,
        binary: str,
        servers: Mapping[str, int],
        *,
        workdir: Path,
        check_interval_s: float = 0.25,
    ) -> None:
        self.ports = {backend: _free_port() for backend in BACKENDS}
        self.stats_port = _free_port()
        config = haproxy_config(
            ports=self.ports,
            stats_port=self.stats_port,
            servers=servers,
            check_interval_s=check_interval_s,
        )
        self.config_path = workdir / "haproxy.cfg"
        self.config_path.write_text(config)
        self.log_path = workdir / "haproxy.log"
        check = subprocess.run(
            [binary, "-c", "-f", str(self.config_path)], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"haproxy refuses its configuration: {check.stdout}{check.stderr}")
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [binary, "-db", "-f", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def urls(self) -> dict[str, str]:
        """Backend name → the URL of its frontend."""
        return {backend: f"http://{_HOST}:{port}" for backend, port in self.ports.items()}

    def states(self) -> dict[tuple[str, str], str]:
        """(backend, server) → its state as HAProxy sees it now (`UP`, `DOWN`, ...)."""
        url = f"http://{_HOST}:{self.stats_port}/stats;csv"
        with _OPENER.open(url, timeout=2) as response:
            text = response.read().decode().lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            (row["pxname"], row["svname"]): row["status"].split()[0]
            for row in rows
            if row["pxname"] in BACKENDS and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def wait_state(self, server: str, state: str, timeout_s: float = 15) -> float:
        """Wait until every backend sees `server` in `state`; the seconds it took."""
        started = time.monotonic()
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"haproxy exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                states = self.states()
                if all(states.get((backend, server)) == state for backend in BACKENDS):
                    return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"{server} not {state} in haproxy within {timeout_s} s")
            time.sleep(0.05)

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
