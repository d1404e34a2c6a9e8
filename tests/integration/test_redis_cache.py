"""The Redis backend against a real Redis: the cache contract, URL forms, and outages.

The contract tests (data cache, singleflight leases) run under a key prefix of their own on
every topology (`redis_url` below): the session's single Redis (env REDIS_URL or a throwaway
server), a Redis Cluster and a Sentinel-managed master. The outage tests start private servers
they can kill.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
import redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import SentinelConnectionPool

from cache.fallback import FallbackCache
from cache.memory import MemoryCache
from cache.redis import RedisCache
from cache.store import CacheStore
from observability.metrics import Metrics
from tests.redis_server import delete_namespace, throwaway_redis, unique_namespace
from tests.support.redis_topologies import every_topology

redis_url = every_topology()

SHORT_TTL = 0.3


class ManualClock:
    """A monotonic clock the test moves, for FallbackCache's retry window."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _gauge(metrics: Metrics) -> float | None:
    return metrics.registry.get_sample_value("panjereh_cache_degraded")


def _backend_errors(metrics: Metrics) -> float:
    value = metrics.registry.get_sample_value(
        "panjereh_cache_backend_errors_total", {"backend": "redis"}
    )
    return value or 0.0


def _lookups(metrics: Metrics, agency: str, kind: str, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "panjereh_cache_lookups_total", {"agency": agency, "kind": kind, "result": result}
    )
    return value or 0.0


# --- the backend contract, on the session's Redis ---------------------------------------------


@pytest.mark.redis
async def test_redis_stores_and_expires(redis_cache: tuple[RedisCache, str]) -> None:
    cache, ns = redis_cache
    await cache.set(f"{ns}k", b"v", ttl=SHORT_TTL)
    assert await cache.add(f"{ns}lease", b"1", ttl=SHORT_TTL) is True
    assert await cache.get(f"{ns}k") == b"v"
    assert 0 < await cache.client.pttl(f"{ns}k") <= SHORT_TTL * 1000  # milliseconds, via PX
    assert 0 < await cache.client.pttl(f"{ns}lease") <= SHORT_TTL * 1000
    await asyncio.sleep(SHORT_TTL + 0.15)
    assert await cache.get(f"{ns}k") is None
    assert await cache.add(f"{ns}lease", b"2", ttl=SHORT_TTL) is True  # an expired lease is free


@pytest.mark.redis
async def test_redis_replaces_and_deletes(redis_cache: tuple[RedisCache, str]) -> None:
    cache, ns = redis_cache
    await cache.set(f"{ns}k", b"1", ttl=10)
    await cache.set(f"{ns}k", b"2", ttl=10)
    assert await cache.get(f"{ns}k") == b"2"
    await cache.delete(f"{ns}k")
    assert await cache.get(f"{ns}k") is None
    await cache.delete(f"{ns}absent")


@pytest.mark.redis
async def test_redis_adds_only_when_absent(redis_cache: tuple[RedisCache, str]) -> None:
    cache, ns = redis_cache
    assert await cache.add(f"{ns}lease", b"first", ttl=5) is True
    assert await cache.add(f"{ns}lease", b"second", ttl=5) is False
    assert await cache.get(f"{ns}lease") == b"first"
    await cache.set(f"{ns}taken", b"v", ttl=10)
    assert await cache.add(f"{ns}taken", b"other", ttl=10) is False
    await cache.delete(f"{ns}lease")
    assert await cache.add(f"{ns}lease", b"third", ttl=5) is True


@pytest.mark.redis
async def test_redis_deletes_only_its_own_value(redis_cache: tuple[RedisCache, str]) -> None:
    cache, ns = redis_cache
    await cache.set(f"{ns}lease", b"mine", ttl=5)
    assert await cache.delete_if(f"{ns}lease", b"theirs") is False
    assert await cache.get(f"{ns}lease") == b"mine"
    assert await cache.delete_if(f"{ns}lease", b"mine") is True
    assert await cache.get(f"{ns}lease") is None


@pytest.mark.redis
async def test_redis_concurrent_adds_grant_one_lease(redis_cache: tuple[RedisCache, str]) -> None:
    cache, ns = redis_cache
    results = await asyncio.gather(*(cache.add(f"{ns}lease", b"1", ttl=5) for _ in range(20)))
    assert results.count(True) == 1


@pytest.mark.redis
async def test_redis_non_positive_ttl_is_not_cached(redis_cache: tuple[RedisCache, str]) -> None:
    cache, ns = redis_cache
    await cache.set(f"{ns}k", b"v", ttl=10)
    await cache.set(f"{ns}k", b"v", ttl=0)  # as MemoryCache: stored for no time at all
    assert await cache.get(f"{ns}k") is None
    assert await cache.add(f"{ns}k", b"v", ttl=0) is True
    assert await cache.get(f"{ns}k") is None


@pytest.mark.redis
async def test_redis_round_trips_any_bytes(redis_cache: tuple[RedisCache, str]) -> None:
    cache, ns = redis_cache
    for i, value in enumerate([b"", bytes(range(256)), "ی ک ۱۲۳".encode(), b"x" * 200_000]):
        await cache.set(f"{ns}{i}", value, ttl=10)
        assert await cache.get(f"{ns}{i}") == value
    assert await cache.ping() is True


@pytest.mark.redis
async def test_cache_store_over_redis(redis_cache: tuple[RedisCache, str]) -> None:
    cache, ns = redis_cache
    metrics = Metrics()
    store = CacheStore(
        cache,
        key_secret=b"secret",
        metrics=metrics,
        encryption_key=b"k" * 32,
        namespace=ns.rstrip(":"),
    )
    await store.store("water", "bills", "0012345679", b"payload", fresh_ttl=10, stale_ttl=60)
    entry = await store.lookup("water", "bills", "0012345679")
    assert entry is not None and entry.payload == b"payload" and not entry.not_found
    lease = await store.acquire_lease("water", "bills", "0012345679", ttl=5)
    assert lease is not None
    assert await store.acquire_lease("water", "bills", "0012345679", ttl=5) is None
    await store.release_lease("water", "bills", "0012345679", lease)
    keys = [k async for k in cache.client.scan_iter(match=f"{ns}*")]
    assert keys and all(b"0012345679" not in k for k in keys)
    assert _lookups(metrics, "water", "bills", "hit") == 1


@pytest.mark.redis
async def test_namespace_cleanup_touches_only_its_own_keys(
    redis_cache: tuple[RedisCache, str],
) -> None:
    cache, ns = redis_cache
    other = unique_namespace()
    try:
        for i in range(3):
            await cache.set(f"{ns}{i}", b"v", ttl=30)
            await cache.set(f"{other}{i}", b"v", ttl=30)
        assert await delete_namespace(cache.client, ns) == 3
        assert [await cache.get(f"{other}{i}") for i in range(3)] == [b"v"] * 3
    finally:
        await delete_namespace(cache.client, other)
    with pytest.raises(ValueError, match="unsafe"):
        await delete_namespace(cache.client, "*")


# --- URL forms: construction only, nothing connects -------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://:secret@cache.internal:6380/2",
        "rediss://user:secret@cache.internal:6380/1",
        "unix:///run/redis/redis.sock?db=3",
    ],
)
async def test_plain_urls_build_a_client(url: str) -> None:
    cache = RedisCache.from_url(url)
    try:
        assert isinstance(cache.client, redis.asyncio.Redis)
        kwargs = cache.client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == 0.2 and kwargs["socket_connect_timeout"] == 0.2
        assert "secret" not in repr(cache)
    finally:
        await cache.close()


async def test_sentinel_url_builds_a_master_client() -> None:
    cache = RedisCache.from_url(
        "redis+sentinel://:secret@10.0.0.1:26379,10.0.0.2:26380,[::1]/mymaster/2"
        "?sentinel_password=other",
        socket_timeout=0.5,
    )
    try:
        pool = cache.client.connection_pool
        assert isinstance(pool, SentinelConnectionPool)
        assert pool.service_name == "mymaster" and pool.is_master
        assert pool.connection_kwargs["db"] == 2
        assert pool.connection_kwargs["password"] == "secret"
        sentinels = pool.sentinel_manager.sentinels
        addresses = [
            (
                s.connection_pool.connection_kwargs["host"],
                s.connection_pool.connection_kwargs["port"],
            )
            for s in sentinels
        ]
        assert addresses == [("10.0.0.1", 26379), ("10.0.0.2", 26380), ("::1", 26379)]
        assert all(s.connection_pool.connection_kwargs["password"] == "other" for s in sentinels)
        assert "secret" not in repr(cache) and "other" not in repr(cache)
    finally:
        await cache.close()


async def test_cluster_url_builds_a_cluster_client() -> None:
    cache = RedisCache.from_url("redis+cluster://:secret@10.0.0.1:7000,10.0.0.2:7001")
    try:
        assert isinstance(cache.client, RedisCluster)
        nodes = sorted(cache.client.nodes_manager.startup_nodes)
        assert nodes == ["10.0.0.1:7000", "10.0.0.2:7001"]
        assert cache.client.connection_kwargs["password"] == "secret"
    finally:
        await cache.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("cache.internal:6379", "no scheme"),
        ("http://cache.internal", "unsupported scheme 'http'"),
        ("memcached://cache.internal:11211", "unsupported scheme"),
        ("redis://:secret@cache.internal:port", "Port could not be cast"),
        ("redis://cache.internal:99999", "Port out of range"),
        ("redis://cache.internal/zero", "database 'zero'"),
        ("redis://cache.internal?decode_responses=yes", "bytes"),
        ("unix://", "socket path"),
        ("redis+sentinel://:secret@10.0.0.1:26379", "service name"),
        ("redis+sentinel://10.0.0.1:26379/", "service name"),
        ("redis+sentinel://10.0.0.1:26379/mymaster/x", "database 'x'"),
        ("redis+sentinel://10.0.0.1:26379/mymaster/0/extra", "service name"),
        ("redis+sentinel://10.0.0.1:0/mymaster", "port '0'"),
        ("redis+sentinel://10.0.0.1:26379,,10.0.0.2/mymaster", "empty host"),
        ("redis+sentinel://10.0.0.1/mymaster?socket_timeout=1", "unsupported Sentinel URL"),
        ("redis+cluster://", "no host"),
        ("redis+cluster://10.0.0.1:7000/1", "only database 0"),
        ("redis+cluster://::1:7000", "brackets"),
        ("redis+cluster://[::1:7000", "Invalid IPv6 URL"),
    ],
)
def test_bad_urls_fail_at_construction(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as raised:
        RedisCache.from_url(url)
    assert "secret" not in str(raised.value)


def test_socket_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="socket_timeout"):
        RedisCache.from_url("redis://127.0.0.1:6379/0", socket_timeout=0)


# --- Sentinel and Cluster for real, on private servers ----------------------------------------


@pytest.mark.redis
async def test_sentinel_url_reaches_the_master() -> None:
    with throwaway_redis() as (_, master):
        monitor = f"sentinel monitor mymaster 127.0.0.1 {master.port} 1\n"
        with throwaway_redis("--sentinel", config_text=monitor) as (_, sentinel):
            url = f"redis+sentinel://127.0.0.1:{sentinel.port}/mymaster/1"
            cache = RedisCache.from_url(url, socket_timeout=2.0)
            try:
                ns = unique_namespace()
                await cache.set(f"{ns}k", b"via sentinel", ttl=10)
                assert await cache.add(f"{ns}k", b"x", ttl=10) is False
                direct = redis.Redis(port=master.port, db=1)
                assert direct.get(f"{ns}k") == b"via sentinel"
                direct.close()
            finally:
                await cache.close()


@pytest.mark.redis
async def test_cluster_url_round_trips_on_a_one_node_cluster() -> None:
    args = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
    with throwaway_redis(*args) as (_, node):
        admin = redis.Redis(port=node.port)
        admin.execute_command("CLUSTER", "ADDSLOTS", *range(16384))
        deadline = time.monotonic() + 10
        while b"cluster_state:ok" not in admin.execute_command("CLUSTER", "INFO"):
            assert time.monotonic() < deadline, "the one-node cluster never became ok"
            await asyncio.sleep(0.05)
        admin.close()
        cache = RedisCache.from_url(f"redis+cluster://127.0.0.1:{node.port}", socket_timeout=2.0)
        try:
            ns = unique_namespace()
            await cache.set(f"{ns}k", b"via cluster", ttl=10)
            assert await cache.get(f"{ns}k") == b"via cluster"
            assert await cache.add(f"{ns}k", b"x", ttl=10) is False
            await cache.delete(f"{ns}k")
            assert await cache.get(f"{ns}k") is None
            assert await cache.ping() is True
        finally:
            await cache.close()


# --- outages: FallbackCache over a private server that dies -----------------------------------


@pytest.mark.redis
async def test_fallback_survives_redis_being_killed_and_recovers_after_restart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with throwaway_redis() as (url, server):
        clock, metrics, ns = ManualClock(), Metrics(), unique_namespace()
        redis_cache = RedisCache.from_url(url)
        cache = FallbackCache(redis_cache, MemoryCache(), metrics=metrics, clock=clock)
        try:
            await cache.set(f"{ns}before", b"in redis", ttl=60)
            assert await cache.get(f"{ns}before") == b"in redis"
            assert not cache.degraded and _gauge(metrics) == 0

            server.kill()
            with caplog.at_level(logging.INFO, logger="cache.fallback"):
                burst = await asyncio.gather(*(cache.get(f"{ns}k{i}") for i in range(20)))
                assert burst == [None] * 20  # misses, not errors
                await cache.set(f"{ns}during", b"in memory", ttl=60)
                assert await cache.get(f"{ns}during") == b"in memory"
                assert await cache.add(f"{ns}lease", b"1", ttl=5) is True
                assert await cache.add(f"{ns}lease", b"1", ttl=5) is False
                assert cache.degraded and cache.name == "redis(degraded→memory)"
                assert _gauge(metrics) == 1 and _backend_errors(metrics) >= 1
                warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
                assert len(warnings) == 1, [r.getMessage() for r in warnings]
                assert ns not in warnings[0].getMessage()

                server.restart()  # same port, empty
                clock.now += 2.0
                assert await cache.get(f"{ns}during") is None  # the probe reads Redis again
                assert not cache.degraded and cache.name == "redis" and _gauge(metrics) == 0
                await cache.set(f"{ns}after", b"in redis", ttl=60)
                assert await redis_cache.get(f"{ns}after") == b"in redis"
            assert any("recovered" in r.getMessage() for r in caplog.records)
            assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
        finally:
            await cache.close()


@pytest.mark.redis
async def test_fallback_treats_a_hung_redis_as_down() -> None:
    with throwaway_redis() as (url, server):
        clock, metrics, ns = ManualClock(), Metrics(), unique_namespace()
        cache = FallbackCache(
            RedisCache.from_url(url, socket_timeout=0.2),
            MemoryCache(),
            metrics=metrics,
            clock=clock,
        )
        try:
            await cache.set(f"{ns}k", b"v", ttl=60)
            server.pause()
            started = time.monotonic()
            assert await cache.get(f"{ns}k") is None  # memory has nothing: a miss, quickly
            assert time.monotonic() - started < 1.0
            assert cache.degraded and _gauge(metrics) == 1
            server.resume()
            clock.now += 2.0
            assert await cache.get(f"{ns}k") == b"v"  # Redis kept it; we are back on Redis
            assert not cache.degraded and _gauge(metrics) == 0
        finally:
            await cache.close()


@pytest.mark.redis
async def test_cache_store_over_fallback_with_redis_down() -> None:
    with throwaway_redis() as (url, server):
        clock, metrics, ns = ManualClock(), Metrics(), unique_namespace()
        backend = FallbackCache(
            RedisCache.from_url(url), MemoryCache(), metrics=metrics, clock=clock
        )
        store = CacheStore(backend, key_secret=b"s", metrics=metrics, namespace=ns.rstrip(":"))
        try:
            server.kill()
            assert await store.lookup("water", "bills", "x") is None
            await store.store("water", "bills", "x", b"bills", fresh_ttl=10, stale_ttl=60)
            entry = await store.lookup("water", "bills", "x")
            assert entry is not None and entry.payload == b"bills"
            assert await store.acquire_lease("post", "address", "x", ttl=5) is not None
            assert await store.acquire_lease("post", "address", "x", ttl=5) is None
            assert await store.ping() is True  # degraded counts as ready
            assert _lookups(metrics, "water", "bills", "miss") == 1
            assert _lookups(metrics, "water", "bills", "hit") == 1
            assert _lookups(metrics, "water", "bills", "error") == 0
            assert backend.degraded and _gauge(metrics) == 1
        finally:
            await backend.close()
