"""The one-off window store's contract, over memory and a real Redis, and two calendars sharing
one Redis: a window set on one instance holds on the other within its sync interval."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from cache.redis import RedisCache
from connectors.registry import AGENCY_IDS
from observability.agency_health.model import MaintenanceWindow
from observability.maintenance import (
    MaintenanceCalendar,
    MemoryWindowStore,
    RedisWindowStore,
    WindowStore,
)
from tests.redis_server import delete_namespace, unique_namespace
from tests.support.redis_topologies import TOPOLOGIES, every_topology, topology_url
from tests.support.scripted_transport import Clock

NOW = 1_728_300_000.0
HOUR = 3600.0


redis_url = every_topology()


@pytest.fixture(params=["memory", *(pytest.param(t, marks=pytest.mark.redis) for t in TOPOLOGIES)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[WindowStore]:
    if request.param == "memory":
        yield MemoryWindowStore()
        return
    url = topology_url(request, request.param)  # single Redis, Cluster or Sentinel
    namespace = unique_namespace()
    redis = RedisWindowStore.from_url(url, namespace=namespace.rstrip(":"))
    try:
        yield redis
    finally:
        await delete_namespace(redis._client, namespace)
        await redis.close()


async def test_put_list_delete(store: WindowStore) -> None:
    first = MaintenanceWindow("water", NOW, NOW + HOUR, "ops", "پمپ‌ها")
    second = MaintenanceWindow("gas", NOW + HOUR, NOW + 2 * HOUR, "ops", "")
    assert await store.all() == []
    assert await store.put(first) is True
    assert await store.put(second) is True
    assert sorted(await store.all(), key=lambda w: w.agency) == [second, first]
    same_start = MaintenanceWindow("water", NOW, NOW + 2 * HOUR, "ops", "longer")
    assert await store.put(same_start) is False  # named by agency and start: refused
    assert await store.delete("water", NOW + 0.4) == first  # the same second
    assert await store.delete("water", NOW) is None
    assert await store.all() == [second]
    assert await store.delete("gas", NOW + HOUR) == second
    assert await store.all() == []


@pytest.mark.redis
async def test_an_unreadable_field_is_skipped(redis_cache: tuple[RedisCache, str]) -> None:
    cache, namespace = redis_cache
    store = RedisWindowStore(cache, f"{namespace}maintenance:windows")
    window = MaintenanceWindow("post", NOW, NOW + HOUR, "ops", "")
    await store.put(window)
    await cache.client.hset(store.key, "post|1", b"{not json")
    assert await store.all() == [window]


@pytest.mark.redis
async def test_instances_on_one_redis_share_one_off_windows(
    redis_cache: tuple[RedisCache, str],
) -> None:
    cache, namespace = redis_cache
    clock = Clock(NOW)

    def instance() -> MaintenanceCalendar:
        store = RedisWindowStore(cache, f"{namespace}maintenance:windows")
        return MaintenanceCalendar(AGENCY_IDS, store=store, sync_s=0.05, clock=clock)

    first, second = instance(), instance()
    await first.sync()
    await second.sync()
    first._task = asyncio.create_task(first._keep_synced())
    second._task = asyncio.create_task(second._keep_synced())
    try:
        window = await first.add_window("tax", NOW - 10, NOW + HOUR, "year-end")
        assert first.active("tax") == window  # at once where it was set
        await _until(lambda: second.active("tax") == window)
        assert await second.windows("tax") == [window]
        await second.remove_window("tax", window.starts_at)
        assert second.active("tax") is None
        await _until(lambda: first.active("tax") is None)
    finally:
        for calendar in (first, second):
            assert calendar._task is not None
            calendar._task.cancel()
            await asyncio.gather(calendar._task, return_exceptions=True)


@pytest.mark.redis
async def test_the_hot_path_keeps_its_snapshot_while_redis_is_away(
    redis_cache: tuple[RedisCache, str], redis_url: str
) -> None:
    cache, namespace = redis_cache
    clock = Clock(NOW)
    store = RedisWindowStore(cache, f"{namespace}maintenance:windows")
    calendar = MaintenanceCalendar(AGENCY_IDS, store=store, clock=clock)
    window = await calendar.add_window("post", NOW, NOW + HOUR)
    unreachable = RedisWindowStore(
        RedisCache.from_url("redis://127.0.0.1:1", socket_timeout=0.2), store.key
    )
    calendar.store = unreachable
    try:
        assert await calendar.sync() is False
        assert calendar.active("post") == window
    finally:
        await unreachable.close()


async def _until(check: object, within_s: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not check():  # type: ignore[operator]
        if loop.time() > deadline:
            pytest.fail(f"not within {within_s} s")
        await asyncio.sleep(0.02)
