"""The Redis cache backend: one plain server, a Sentinel-managed master, or a Cluster.

`RedisCache.from_url` understands, besides redis-py's own `redis://`, `rediss://` and `unix://`:

    redis+sentinel://[[user]:password@]host:port[,host2:port2...]/service_name[/db]
        [?sentinel_password=...]
    redis+cluster://[[user]:password@]host:port[,host2:port2...]      (rediss+cluster:// for TLS)

The password in a Sentinel URL is the master's; sentinels that require their own pass it as
`sentinel_password`. A bad URL raises `ValueError` at construction, so a misconfigured instance
fails at start-up instead of serving every request from a broken cache. Nothing connects until
the first command.

Timeouts are short on purpose: a cache that answers late is worse than a miss. Commands are not
retried on a timeout, and a broken connection is retried once, immediately (a pooled connection
left over from before a Redis restart); anything else reaches `cache.fallback.FallbackCache`.

A Cluster client retries a failed command up to `_CLUSTER_RETRIES` times, 10–50 ms apart, each
time after re-reading which node serves the slot: that is how it finds a promoted replica. With
fewer retries and no pause, redis-py's async cluster client (8.x) falls into a loop under
concurrent load: each failure makes it refresh the topology and reset the connections other
calls are using, which fail in turn (seen as AttributeError and "Connection closed"). The
caller's own bound (`FallbackCache`'s timeout) still caps how long a call may take.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException

__all__ = ["RedisCache"]

_PLAIN_SCHEMES = ("redis", "rediss", "unix")
_SENTINEL_SCHEME = "redis+sentinel"
_CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
_SUPPORTED = "redis://, rediss://, unix://, redis+sentinel://, redis+cluster://, rediss+cluster://"
_DEFAULT_PORT = 6379
_DEFAULT_SENTINEL_PORT = 26379
_MAX_PORT = 65535
_SENTINEL_QUERY = frozenset({"sentinel_password"})
_USERINFO = re.compile(r"(?<=://)[^/@]*@")
_SECRET_QUERY = re.compile(r"(?<=[?&])([^=&]*password=)[^&]*", re.IGNORECASE)


class RedisCache:
    """`CacheBackend` over a `redis.asyncio` client: bytes in, bytes out, TTLs in milliseconds."""

    name = "redis"

    def __init__(
        self,
        client: aioredis.Redis | RedisCluster,
        *,
        sentinel: Sentinel | None = None,
        description: str = "redis",
    ) -> None:
        self._client = client
        self._sentinel = sentinel
        self._description = description
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, socket_timeout: float = 0.2) -> RedisCache:
        """A cache for `url`; raises `ValueError` with the reason when the URL is unusable."""
        if not isinstance(url, str) or not url.strip():
            raise ValueError(f"Redis URL is empty; expected one of {_SUPPORTED}")
        if not socket_timeout > 0:
            raise ValueError(f"socket_timeout must be positive, got {socket_timeout!r}")
        url = url.strip()
        shown = _redact(url)
        scheme, sep, _ = url.partition("://")
        scheme = scheme.lower()
        if not sep or not scheme:
            raise ValueError(f"Redis URL {shown!r} has no scheme; expected one of {_SUPPORTED}")
        options: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_timeout,
            "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        }
        try:
            if scheme in _PLAIN_SCHEMES:
                return cls(_plain_client(url, scheme, options), description=shown)
            if scheme == _SENTINEL_SCHEME:
                sentinel, client = _sentinel_client(url, options)
                return cls(client, sentinel=sentinel, description=shown)
            if scheme in _CLUSTER_SCHEMES:
                cluster = _cluster_client(url, _CLUSTER_SCHEMES[scheme], options)
                return cls(cluster, description=shown)
        except (ValueError, RedisClusterException) as exc:
            raise ValueError(f"invalid Redis URL {shown!r}: {exc}") from exc
        raise ValueError(
            f"Redis URL {shown!r} has unsupported scheme {scheme!r}; expected one of {_SUPPORTED}"
        )

    @property
    def client(self) -> aioredis.Redis | RedisCluster:
        """The underlying client, for tests and administrative commands."""
        return self._client

    def __repr__(self) -> str:
        return f"RedisCache({self._description!r})"

    async def get(self, key: str) -> bytes | None:
        return await self._client.get(key)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if ttl <= 0:  # as MemoryCache: a non-positive TTL means "not cached"
            await self._client.delete(key)
            return
        await self._client.set(key, value, px=_milliseconds(ttl))

    async def add(self, key: str, value: bytes, ttl: float) -> bool:
        if ttl <= 0:  # nothing would be stored; report whether the lease would have been free
            return not await self._client.exists(key)
        return bool(await self._client.set(key, value, px=_milliseconds(ttl), nx=True))

    async def delete(self, key: str) -> None:
        await self._client.delete(key)

    async def delete_if(self, key: str, value: bytes) -> bool:
        # Compare and delete in one step on the server, so a lease that expired and was taken by
        # another instance is never released by its former holder.
        return bool(await self._client.eval(_DELETE_IF_SCRIPT, 1, key, value))

    async def ping(self) -> bool:
        """Whether Redis answers PING now; never raises."""
        try:
            return bool(await self._client.ping())
        except Exception:  # a health check reports, it does not fail
            return False

    async def close(self) -> None:
        """Close the client and its connection pool (and the sentinel connections, if any)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._client.aclose()
        finally:
            if self._sentinel is not None:
                await self._sentinel.aclose()


def _milliseconds(ttl: float) -> int:
    return max(1, math.ceil(ttl * 1000))


def _redact(url: str) -> str:
    """The URL without its credentials, for messages and logs."""
    return _SECRET_QUERY.sub(r"\1***", _USERINFO.sub("***@", url, count=1))


_MAX_CONNECTIONS = 256
_CLUSTER_RETRIES = 3
_DELETE_IF_SCRIPT = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


def _plain_client(url: str, scheme: str, options: dict[str, Any]) -> aioredis.Redis:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "decode_responses" in query:
        raise ValueError("decode_responses cannot be set: the cache stores bytes")
    if scheme == "unix":
        if not parts.path:
            raise ValueError("a unix:// URL needs the socket path, e.g. unix:///run/redis.sock")
    else:
        _ = parts.port  # raises ValueError for a port that is not a number in range
        _database(parts.path, query)
    # A blocking pool: a burst of concurrent cache calls waits (within the socket timeout) for a
    # connection instead of failing with MaxConnectionsError and degrading the whole cache.
    pool = BlockingConnectionPool.from_url(
        url, max_connections=_MAX_CONNECTIONS, timeout=options["socket_timeout"], **options
    )
    return aioredis.Redis.from_pool(pool)


class _BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """The master's connections as a blocking pool, like a plain URL's: a burst beyond
    `_MAX_CONNECTIONS` waits for a free connection instead of failing with MaxConnectionsError
    (redis-py's Sentinel pool refuses past 100) and sending the whole cache to memory."""


def _sentinel_client(url: str, options: dict[str, Any]) -> tuple[Sentinel, aioredis.Redis]:
    parts = urlsplit(url)
    username, password, hostlist = _userinfo(parts.netloc)
    nodes = _hosts(hostlist, _DEFAULT_SENTINEL_PORT)
    segments = [unquote(s) for s in parts.path.strip("/").split("/")] if parts.path else []
    if not segments or not segments[0] or len(segments) > 2:
        raise ValueError("a Sentinel URL needs the service name as its path: /service_name[/db]")
    service = segments[0]
    db = _database_number(segments[1]) if len(segments) == 2 else 0
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - _SENTINEL_QUERY)
    if unknown:
        raise ValueError(
            f"unsupported Sentinel URL option(s) {', '.join(unknown)}; "
            f"supported: {', '.join(sorted(_SENTINEL_QUERY))}"
        )
    # The sentinels get the same short timeouts and single retry: master discovery must not
    # outlast the cache's own deadline with redis-py's default backoff.
    sentinel_kwargs = dict(options)
    if query.get("sentinel_password", [""])[0]:
        sentinel_kwargs["password"] = query["sentinel_password"][0]
    sentinel = Sentinel(nodes, sentinel_kwargs=sentinel_kwargs, **options)
    master_options: dict[str, Any] = {
        "db": db,
        "connection_pool_class": _BlockingSentinelPool,
        "max_connections": _MAX_CONNECTIONS,
        "timeout": options["socket_timeout"],
    }
    if username:
        master_options["username"] = username
    if password:
        master_options["password"] = password
    return sentinel, sentinel.master_for(service, **master_options)


def _cluster_client(url: str, plain_scheme: str, options: dict[str, Any]) -> RedisCluster:
    parts = urlsplit(url)
    _, _, hostlist = parts.netloc.rpartition("@")
    userinfo = parts.netloc[: len(parts.netloc) - len(hostlist)]
    nodes = _hosts(hostlist, _DEFAULT_PORT)
    if _database(parts.path, parse_qs(parts.query)) != 0:
        raise ValueError("Redis Cluster has only database 0")
    if "decode_responses" in parse_qs(parts.query):
        raise ValueError("decode_responses cannot be set: the cache stores bytes")
    first_host, first_port = nodes[0]
    netloc = f"{userinfo}{_bracket(first_host)}:{first_port}"
    rewritten = f"{plain_scheme}://{netloc}{parts.path}"
    if parts.query:
        rewritten += f"?{parts.query}"
    extra = [ClusterNode(host, port) for host, port in nodes[1:]]
    cluster_options = {
        **options,
        "max_connections": _MAX_CONNECTIONS,  # per node; redis-py's default is 100
        "retry": Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.05), _CLUSTER_RETRIES),
    }
    return RedisCluster.from_url(rewritten, startup_nodes=extra or None, **cluster_options)


def _userinfo(netloc: str) -> tuple[str | None, str | None, str]:
    userinfo, at, hostlist = netloc.rpartition("@")
    if not at:
        return None, None, netloc
    username, _, password = userinfo.partition(":")  # a lone word is a user name, as in redis://
    return unquote(username) or None, unquote(password) or None, hostlist


def _hosts(hostlist: str, default_port: int) -> list[tuple[str, int]]:
    if not hostlist.strip():
        raise ValueError("no host given")
    nodes = []
    for item in hostlist.split(","):
        entry = item.strip()
        if entry.startswith("["):  # [ipv6]:port
            host, bracket, after = entry[1:].partition("]")
            if not bracket or (after and not after.startswith(":")):
                raise ValueError(f"malformed host {entry!r}")
            port_text = after[1:]
        elif entry.count(":") > 1:
            raise ValueError(f"IPv6 address {entry!r} must be written in brackets: [addr]:port")
        else:
            host, _, port_text = entry.partition(":")
        if not host:
            raise ValueError(f"empty host in {hostlist!r}")
        nodes.append((unquote(host), _port(port_text, default_port)))
    return nodes


def _port(text: str, default: int) -> int:
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) <= _MAX_PORT:
        raise ValueError(f"port {text!r} is not a number from 1 to {_MAX_PORT}")
    return int(text)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _database(path: str, query: dict[str, list[str]]) -> int:
    if "db" in query:
        return _database_number(query["db"][0])
    text = unquote(path).strip("/")
    return _database_number(text) if text else 0


def _database_number(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"database {text!r} is not a non-negative number")
    return int(text)
