"""The in-process cache bounded in bytes: eviction by size in recency order, explicit sizes for
objects, decoded agency answers charged what they weigh, and its size exported as metrics."""

from __future__ import annotations

import datetime as dt
import tracemalloc

import pytest
from pydantic import TypeAdapter

from cache.memory import ENTRY_OVERHEAD, MemoryCache
from cache.store import CacheStore
from domain.models import Bill, BillKind, Rial
from observability.metrics import Metrics


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _charge(key: str, size: int) -> int:
    return len(key) + size + ENTRY_OVERHEAD


async def test_evicts_least_recently_used_entries_past_the_byte_budget() -> None:
    budget = 3 * _charge("a", 100)
    cache = MemoryCache(max_bytes=budget, clock=Clock())
    for key in "abc":
        await cache.set(key, b"x" * 100, ttl=60)
    assert cache.size_bytes == budget
    assert await cache.get("a") == b"x" * 100  # a is now the most recently used
    await cache.set("d", b"y" * 100, ttl=60)
    assert await cache.get("b") is None
    assert [await cache.get(k) is not None for k in "acd"] == [True, True, True]
    assert cache.size_bytes == budget


async def test_one_large_value_evicts_as_many_small_ones_as_it_needs() -> None:
    cache = MemoryCache(max_bytes=10 * _charge("k0", 10), clock=Clock())
    for index in range(10):
        await cache.set(f"k{index}", b"s" * 10, ttl=60)
    await cache.set("big", b"B" * 5 * _charge("k0", 10), ttl=60)
    assert len(cache) == 5  # the big one and the four newest small ones: 1023 + 4 × 172 bytes
    assert await cache.get("k5") is None and await cache.get("k6") is not None
    assert cache.size_bytes <= 10 * _charge("k0", 10)


async def test_a_value_larger_than_the_budget_is_not_kept() -> None:
    cache = MemoryCache(max_bytes=1000, clock=Clock())
    await cache.set("small", b"s", ttl=60)
    await cache.set("huge", b"h" * 2000, ttl=60)
    assert await cache.get("huge") is None
    assert await cache.get("small") == b"s"


async def test_replacing_and_deleting_and_expiry_give_back_their_bytes() -> None:
    clock = Clock()
    cache = MemoryCache(max_bytes=1 << 20, clock=clock)
    await cache.set("k", b"x" * 500, ttl=10)
    await cache.set("k", b"x" * 100, ttl=10)
    assert cache.size_bytes == _charge("k", 100)
    await cache.delete("k")
    assert cache.size_bytes == 0
    await cache.set("k", b"x" * 100, ttl=10)
    clock.now += 11
    assert await cache.get("k") is None
    assert cache.size_bytes == 0 and len(cache) == 0


async def test_objects_are_stored_with_the_size_the_caller_states() -> None:
    cache = MemoryCache(max_bytes=2 * _charge("o1", 1000), clock=Clock())
    decoded = {"name": "..."}
    with pytest.raises(TypeError):
        await cache.set("o1", decoded, ttl=60)
    await cache.set("o1", decoded, ttl=60, size=1000)
    assert await cache.get("o1") is decoded
    await cache.set("o2", object(), ttl=60, size=1000)
    await cache.set("o3", object(), ttl=60, size=1000)
    assert await cache.get("o1") is None


async def test_size_and_entries_are_exported() -> None:
    metrics = Metrics()
    cache = MemoryCache(max_bytes=1 << 20, clock=Clock(), metrics=metrics)

    def sample(name: str) -> float | None:
        return metrics.registry.get_sample_value(name)

    assert sample("panjereh_cache_memory_bytes") == 0
    await cache.set("a", b"x" * 300, ttl=60)
    await cache.set("b", b"x" * 200, ttl=60)
    assert sample("panjereh_cache_memory_bytes") == _charge("a", 300) + _charge("b", 200)
    assert sample("panjereh_cache_memory_entries") == 2
    await cache.delete("a")
    assert sample("panjereh_cache_memory_bytes") == _charge("b", 200)
    assert sample("panjereh_cache_memory_entries") == 1


def test_a_budget_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MemoryCache(max_bytes=0)


async def test_a_decoded_answer_is_charged_what_it_weighs_not_only_its_json() -> None:
    """The store keeps agency answers decoded (frozen models), which weigh several times their
    JSON; charged only the JSON, a 64 MiB budget let the gateway grow past 190 MB of RSS."""
    adapter: TypeAdapter[tuple[Bill, ...]] = TypeAdapter(tuple[Bill, ...])
    bills = tuple(
        Bill(
            kind=BillKind.WATER,
            bill_id=f"{1234567 + i:013d}",
            payment_id=f"{98765 + i:010d}",
            amount_rial=Rial(1_250_000 + i),
            due_date=dt.date(2024, 10, 6 + i),
            period=f"1403-0{i + 1}",
            subscription=f"SUB-{i:08d}",
            description=f"آب بهای دوره {i + 1}",
        )
        for i in range(4)
    )
    payload = adapter.dump_json(bills)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        decoded = adapter.validate_json(payload)  # a graph of its own, as a fresh answer is
        weighs = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    memory = MemoryCache(clock=Clock())
    store = CacheStore(memory, key_secret=b"k", metrics=Metrics(), clock=Clock())
    await store.store("water", "bills", "s", payload, value=decoded, fresh_ttl=10, stale_ttl=20)
    assert weighs > 3 * len(payload)  # why the JSON's length is no measure of it
    charged = memory.size_bytes - len(store.key_for("water", "bills", "s")) - ENTRY_OVERHEAD
    assert weighs + len(payload) <= charged <= 3 * (weighs + len(payload))


async def test_an_entry_kept_as_bytes_only_is_charged_its_bytes() -> None:
    memory = MemoryCache(clock=Clock())
    store = CacheStore(memory, key_secret=b"k", metrics=Metrics(), clock=Clock())
    await store.store("water", "bills", "s", b"[]", not_found=True, fresh_ttl=10, stale_ttl=20)
    key = store.key_for("water", "bills", "s")
    assert memory.size_bytes == _charge(key, len(await memory.get(key)))
