"""Fixtures shared by every test directory: a real Redis, found or started once per session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from cache.redis import RedisCache
from tests.redis_server import delete_namespace, session_redis_url, unique_namespace
from tests.support.redis_topologies import redis_cluster, redis_sentinel

pytest_plugins = ["tests.support.gateway_processes", "tests.support.json_logs"]
"""Fixtures shared by modules: `sandbox` and `namespace` of the tests that run gateways as
processes, `json_lines` of the tests that read the logs; a module's own fixture of the same name
overrides them."""

# Generous next to production's 0.2 s: a busy CI machine must not make contract tests flaky.
_TEST_SOCKET_TIMEOUT_S = 2.0


@pytest.fixture(scope="session")
def redis_single_url() -> Iterator[str]:
    """A Redis URL for this session: env REDIS_URL, else a throwaway local redis-server.

    Skips when no Redis can be had, except under CI=true, where it fails (see tests/redis_server).
    """
    with session_redis_url() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(redis_single_url: str) -> str:
    """The Redis of most tests: `redis_single_url`. A contract suite that must hold on every
    topology overrides it with one parametrised over `TOPOLOGIES` (tests.support.redis_topologies).
    """
    return redis_single_url


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """A Redis Cluster of this session (three masters, a replica each), started on first use.

    Tests share it as they share `redis_url`: each under a key prefix of its own. Tests that
    kill a node start a private one (`tests.support.redis_topologies.redis_cluster`).
    """
    with redis_cluster() as cluster:
        yield cluster.url


@pytest.fixture(scope="session")
def redis_sentinel_url() -> Iterator[str]:
    """A Sentinel-managed master and replica of this session (three sentinels), on first use."""
    with redis_sentinel() as setup:
        yield setup.url


@pytest.fixture
async def redis_cache(redis_url: str) -> AsyncIterator[tuple[RedisCache, str]]:
    """A `RedisCache` on the session's Redis and a key prefix for this test alone.

    Every key the test writes must start with the prefix: afterwards exactly those keys are
    deleted (SCAN + DEL), leaving a shared Redis as it was found.
    """
    cache = RedisCache.from_url(redis_url, socket_timeout=_TEST_SOCKET_TIMEOUT_S)
    if not await cache.ping():
        await cache.close()
        pytest.fail(f"Redis at {cache!r} does not answer PING", pytrace=False)
    namespace = unique_namespace()
    try:
        yield cache, namespace
    finally:
        try:
            await delete_namespace(cache.client, namespace)
        finally:
            await cache.close()
