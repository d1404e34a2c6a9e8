"""Redis as production runs it, on loopback: a Cluster (three masters with a replica each) and a
Sentinel setup (a master, a replica, three sentinels), for contract and failover tests.

    RedisClusterSetup     six `redis-server --cluster-enabled yes` joined by
                          `redis-cli --cluster create … --cluster-replicas 1`; url
                          `redis+cluster://` naming every node
    RedisSentinelSetup    master + `--replicaof` replica + three `redis-server --sentinel`
                          (quorum 2); url `redis+sentinel://s1,s2,s3/<service>`

Both keep nothing on disk and can lose their master on purpose (`kill_master…`, then
`wait_for_…` says how long the switch took). Failure detection is tuned short
(`NODE_TIMEOUT_MS`, `DOWN_AFTER_MS`) so a failover test takes seconds, not minutes.

Where the programs come from (`find_redis_program`, once per session): PATH; else, as root
with apt-get, Debian's `redis-server` (which brings `redis-tools`, hence `redis-cli`); else the
test is skipped with the reason, and under `CI=true` it fails (see `tests.redis_server`).

`topology_url(request, name)` is what a contract suite's parametrised `redis_url` fixture calls
(`every_topology` makes one):
"single" is the session's Redis (`redis_single_url` of tests/conftest.py), "cluster" and "sentinel"
the session-scoped setups below, started the first time a test asks for them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.prometheus_tools import _apt_install
from tests.redis_server import RedisServerProcess, redis_unavailable

__all__ = [
    "DOWN_AFTER_MS",
    "NODE_TIMEOUT_MS",
    "TOPOLOGIES",
    "RedisClusterSetup",
    "RedisSentinelSetup",
    "every_topology",
    "find_redis_program",
    "redis_cluster",
    "redis_sentinel",
    "topology_url",
]

TOPOLOGIES = ("single", "cluster", "sentinel")

NODE_TIMEOUT_MS = 1500
"""`cluster-node-timeout`: a master silent this long is suspected, and its replica takes over
a second or two later. Short for tests; production keeps the default 15 s."""

DOWN_AFTER_MS = 1000
"""Sentinel's `down-after-milliseconds` for the test master (production: 30 s by default)."""

SERVICE = "panjereh"
_HOST = "127.0.0.1"
_READY_TIMEOUT_S = 30.0
_CLI_TIMEOUT_S = 60.0
_DEBIAN_PACKAGE = {"redis-server": "redis-server", "redis-cli": "redis-tools"}


@cache
def find_redis_program(name: str) -> tuple[str | None, str]:
    """`(path, how)` for `redis-server` or `redis-cli`: PATH, else Debian's package as root."""
    on_path = shutil.which(name)
    if on_path:
        return on_path, "on PATH"
    package = _DEBIAN_PACKAGE[name]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None, f"no {name} on PATH (as root with apt-get: apt-get install {package})"
    problem = _apt_install(package)
    on_path = shutil.which(name)
    if on_path:
        return on_path, f"installed Debian's {package}"
    return None, f"no {name} on PATH and apt-get install {package} failed: {problem}"


def _require(name: str) -> str:
    path, how = find_redis_program(name)
    if path is None:
        redis_unavailable(how)
    return path


def _admin(port: int) -> redis.Redis:
    return redis.Redis(host=_HOST, port=port, socket_timeout=2.0, socket_connect_timeout=2.0)


def _info(port: int, section: str) -> dict[str, object]:
    with contextlib.closing(_admin(port)) as client:
        return client.info(section)


def _wait(what: str, ready: object, timeout_s: float = _READY_TIMEOUT_S) -> float:
    """Poll `ready()` (errors count as not yet) until true; seconds it took. Raises on timeout."""
    start = time.monotonic()
    last: object = None
    while time.monotonic() - start < timeout_s:
        try:
            if ready():  # type: ignore[operator]
                return time.monotonic() - start
        except (redis.RedisError, OSError) as exc:
            last = exc
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not happen within {timeout_s:.0f} s (last error: {last!r})")


# --- Cluster ----------------------------------------------------------------------------------


class RedisClusterSetup:
    """Three masters with a replica each on 127.0.0.1; `start()`, `close()`, or a `with`."""

    def __init__(self, server: str, cli: str, *, node_timeout_ms: int = NODE_TIMEOUT_MS) -> None:
        self._server = server
        self._cli = cli
        self._dir = Path(tempfile.mkdtemp(prefix="panjereh-cluster-"))
        args = (
            *("--cluster-enabled", "yes"),
            *("--cluster-config-file", "nodes.conf"),
            *("--cluster-node-timeout", str(node_timeout_ms)),
            # a replica takes over however long it was cut off: tests lose nothing by it
            *("--cluster-replica-validity-factor", "0"),
        )
        self.nodes = [
            RedisServerProcess(server, extra_args=args, workdir=self._mkdir(f"node{i}"))
            for i in range(6)
        ]

    def _mkdir(self, name: str) -> Path:
        path = self._dir / name
        path.mkdir()
        return path

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"{_HOST}:{n.port}" for n in self.nodes)

    def start(self) -> RedisClusterSetup:
        for node in self.nodes:
            node.start()
        addresses = [f"{_HOST}:{n.port}" for n in self.nodes]
        create = ["--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"]
        done = subprocess.run(
            [self._cli, *create],
            capture_output=True,
            text=True,
            timeout=_CLI_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if done.returncode != 0:
            tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            raise RuntimeError(f"redis-cli --cluster create failed: {tail}")
        _wait("the cluster coming up with a synced replica per master", self._healthy)
        return self

    def _healthy(self) -> bool:
        """Every running node sees the cluster ok, and each master has an online replica."""
        masters = self.masters()
        if len(masters) != 3:
            return False
        for node in self.nodes:
            if node.running and _info(node.port, "cluster").get("cluster_enabled") != 1:
                return False
            if node.running:
                with contextlib.closing(_admin(node.port)) as client:
                    if b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                        return False
        for port in masters:
            replication = _info(port, "replication")
            if int(replication.get("connected_slaves", 0)) < 1:  # type: ignore[arg-type]
                return False
            replica = replication.get("slave0") or {}
            if not isinstance(replica, dict) or replica.get("state") != "online":
                return False
        return True

    def _some_running(self) -> RedisServerProcess:
        return next(n for n in self.nodes if n.running)

    def masters(self) -> list[int]:
        """Ports of the masters serving slots, as a running node sees them."""
        with contextlib.closing(_admin(self._some_running().port)) as client:
            slots = client.execute_command("CLUSTER", "SLOTS")
        return sorted({int(entry[2][1]) for entry in slots})

    def master_port_of(self, key: str) -> int:
        """The port of the master now serving `key`'s slot."""
        with contextlib.closing(_admin(self._some_running().port)) as client:
            slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
            for start, end, master, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if int(start) <= slot <= int(end):
                    return int(master[1])
        raise RuntimeError(f"no master serves the slot of {key!r}")

    def node_on(self, port: int) -> RedisServerProcess:
        return next(n for n in self.nodes if n.port == port)

    def kill_master_of(self, key: str) -> int:
        """SIGKILL the master serving `key`; its port."""
        port = self.master_port_of(key)
        self.node_on(port).kill()
        return port

    def wait_for_promotion(self, killed_port: int, key: str) -> float:
        """Seconds until `key`'s slot is served by another master and the cluster is ok."""

        def promoted() -> bool:
            if self.master_port_of(key) == killed_port:
                return False
            for node in self.nodes:
                if node.running:
                    with contextlib.closing(_admin(node.port)) as client:
                        if b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                            return False
            return True

        return _wait(f"a replica taking over from the master on port {killed_port}", promoted)

    def all_keys_and_values(self) -> Iterator[tuple[bytes, list[bytes]]]:
        """Every key held by every running node (masters and replicas) with its contents."""
        for node in self.nodes:
            if node.running:
                yield from _dump(node.port)

    def close(self) -> None:
        for node in self.nodes:
            node.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisClusterSetup:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- Sentinel ---------------------------------------------------------------------------------


class RedisSentinelSetup:
    """A master, a replica and three sentinels (quorum 2) watching service `SERVICE`."""

    def __init__(self, server: str, *, down_after_ms: int = DOWN_AFTER_MS) -> None:
        self._server = server
        self._down_after_ms = down_after_ms
        self._dir = Path(tempfile.mkdtemp(prefix="panjereh-sentinel-"))
        self.master = RedisServerProcess(server, workdir=self._mkdir("master"))
        self.replica: RedisServerProcess | None = None
        self.sentinels: list[RedisServerProcess] = []

    def _mkdir(self, name: str) -> Path:
        path = self._dir / name
        path.mkdir()
        return path

    @property
    def url(self) -> str:
        hosts = ",".join(f"{_HOST}:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    @property
    def servers(self) -> list[RedisServerProcess]:
        return [self.master] + ([self.replica] if self.replica else [])

    def start(self) -> RedisSentinelSetup:
        self.master.start()
        self.replica = RedisServerProcess(
            self._server,
            extra_args=("--replicaof", _HOST, str(self.master.port)),
            workdir=self._mkdir("replica"),
        ).start()
        config = (
            f"sentinel monitor {SERVICE} {_HOST} {self.master.port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {self._down_after_ms}\n"
            f"sentinel failover-timeout {SERVICE} 10000\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        for i in range(3):
            sentinel = RedisServerProcess(
                self._server,
                extra_args=("--sentinel",),
                config_text=config,
                workdir=self._mkdir(f"sentinel{i}"),
            )
            self.sentinels.append(sentinel.start())
        _wait("the sentinels agreeing on a master with a synced replica", self._healthy)
        return self

    def _healthy(self) -> bool:
        port = self.master_port()
        replication = _info(port, "replication")
        replica = replication.get("slave0") or {}
        if not isinstance(replica, dict) or replica.get("state") != "online":
            return False
        for sentinel in self.sentinels:
            with contextlib.closing(_admin(sentinel.port)) as client:
                state = client.sentinel_master(SERVICE)
            if int(state["num-other-sentinels"]) != 2 or int(state["num-slaves"]) < 1:
                return False
            if int(state["port"]) != port:
                return False
        return True

    def master_port(self) -> int:
        """The master's port as the first running sentinel tells it."""
        sentinel = next(s for s in self.sentinels if s.running)
        with contextlib.closing(_admin(sentinel.port)) as client:
            _, port = client.sentinel_get_master_addr_by_name(SERVICE)
        return int(port)

    def server_on(self, port: int) -> RedisServerProcess:
        return next(s for s in self.servers if s.port == port)

    def kill_master(self) -> int:
        """SIGKILL the current master; its port."""
        port = self.master_port()
        self.server_on(port).kill()
        return port

    def wait_for_promotion(self, killed_port: int) -> float:
        """Seconds until every sentinel names another master and that one answers as master."""

        def promoted() -> bool:
            ports = set()
            for sentinel in self.sentinels:
                with contextlib.closing(_admin(sentinel.port)) as client:
                    _, port = client.sentinel_get_master_addr_by_name(SERVICE)
                ports.add(int(port))
            if len(ports) != 1 or killed_port in ports:
                return False
            return _info(ports.pop(), "replication").get("role") == "master"

        return _wait(f"a sentinel failover away from port {killed_port}", promoted)

    def all_keys_and_values(self) -> Iterator[tuple[bytes, list[bytes]]]:
        for server in self.servers:
            if server.running:
                yield from _dump(server.port)

    def close(self) -> None:
        for process in [*self.sentinels, *self.servers]:
            process.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisSentinelSetup:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dump(port: int) -> Iterator[tuple[bytes, list[bytes]]]:
    """Each key of one server with what it holds, read by type (strings, hashes, lists, sets,
    sorted sets, streams), for scanning a whole server for plain-text personal data."""
    with contextlib.closing(_admin(port)) as client:
        if client.info("cluster").get("cluster_enabled"):
            client.execute_command("READONLY")  # a cluster replica answers reads only then
        for key in client.scan_iter(count=1000):
            kind = client.type(key)
            values: list[bytes] = []
            if kind == b"string":
                values = [client.get(key) or b""]
            elif kind == b"hash":
                for field, value in client.hgetall(key).items():
                    values += [field, value]
            elif kind == b"list":
                values = list(client.lrange(key, 0, -1))
            elif kind == b"set":
                values = list(client.smembers(key))
            elif kind == b"zset":
                values = [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
            elif kind == b"stream":
                for _, fields in client.xrange(key):
                    for field, value in fields.items():
                        values += [field, value]
            yield key, values


# --- fixtures' helpers ------------------------------------------------------------------------


@contextlib.contextmanager
def redis_cluster(**kwargs: int) -> Iterator[RedisClusterSetup]:
    """A started cluster, closed afterwards; skips (fails under CI) without the programs."""
    server, cli = _require("redis-server"), _require("redis-cli")
    setup = RedisClusterSetup(server, cli, **kwargs)
    try:
        setup.start()
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        setup.close()
        redis_unavailable(f"the Redis Cluster would not start: {exc}")
    try:
        yield setup
    finally:
        setup.close()


@contextlib.contextmanager
def redis_sentinel(**kwargs: int) -> Iterator[RedisSentinelSetup]:
    """A started Sentinel setup, closed afterwards; skips (fails under CI) without redis-server."""
    setup = RedisSentinelSetup(_require("redis-server"), **kwargs)
    try:
        setup.start()
    except (OSError, RuntimeError) as exc:
        setup.close()
        redis_unavailable(f"the Sentinel setup would not start: {exc}")
    try:
        yield setup
    finally:
        setup.close()


def every_topology() -> Any:
    """A `redis_url` fixture for a module whose tests must hold on every topology:

        redis_url = every_topology()

    parametrised over `TOPOLOGIES` (ids `single`, `cluster`, `sentinel`)."""

    @pytest.fixture(name="redis_url", params=TOPOLOGIES)
    def redis_url(request: pytest.FixtureRequest) -> str:
        return topology_url(request, request.param)

    return redis_url


def topology_url(request: pytest.FixtureRequest, name: str) -> str:
    """The URL of the session's Redis of topology `name` (one of `TOPOLOGIES`)."""
    return str(request.getfixturevalue(f"redis_{name}_url"))
