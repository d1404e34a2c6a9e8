"""The cache contract, run against every backend, and the typed store above it."""

from __future__ import annotations

import pytest

from cache.backend import CacheBackend
from cache.memory import MemoryCache
from cache.store import CacheStore
from observability.metrics import Metrics


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory"])
def backend(request: pytest.FixtureRequest, clock: FakeClock) -> CacheBackend:
    return MemoryCache(max_entries=3, clock=clock)


async def test_backend_stores_and_expires(backend: CacheBackend, clock: FakeClock) -> None:
    await backend.set("k", b"v", ttl=10)
    assert await backend.get("k") == b"v"
    clock.now += 10.5
    assert await backend.get("k") is None


async def test_backend_replaces_and_deletes(backend: CacheBackend) -> None:
    await backend.set("k", b"1", ttl=10)
    await backend.set("k", b"2", ttl=10)
    assert await backend.get("k") == b"2"
    await backend.delete("k")
    assert await backend.get("k") is None
    await backend.delete("absent")


async def test_memory_cache_evicts_least_recently_used(clock: FakeClock) -> None:
    cache = MemoryCache(max_entries=2, clock=clock)
    await cache.set("a", b"a", 10)
    await cache.set("b", b"b", 10)
    assert await cache.get("a") == b"a"  # a is now the most recently used
    await cache.set("c", b"c", 10)
    assert await cache.get("b") is None
    assert await cache.get("a") == b"a"
    assert len(cache) == 2


def test_memory_cache_rejects_a_useless_size() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        MemoryCache(max_entries=0)


def _store(clock: FakeClock, metrics: Metrics, backend: CacheBackend | None = None) -> CacheStore:
    return CacheStore(
        backend or MemoryCache(clock=clock), key_secret=b"secret", metrics=metrics, clock=clock
    )


def _lookups(metrics: Metrics, kind: str, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "panjereh_cache_lookups_total", {"kind": kind, "result": result}
    )
    return value or 0.0


def test_keys_never_contain_the_subject() -> None:
    store = _store(FakeClock(), Metrics())
    key = store.key_for("civil-registry", "person", "0012345679")
    assert "0012345679" not in key
    assert key.startswith("panjereh:civil-registry:person:")
    assert key == store.key_for("civil-registry", "person", "0012345679")
    assert key != store.key_for("civil-registry", "person", "0012345670")


def test_keys_depend_on_the_secret() -> None:
    clock, metrics = FakeClock(), Metrics()
    other = CacheStore(MemoryCache(), key_secret=b"other", metrics=metrics, clock=clock)
    assert _store(clock, metrics).key_for("a", "k", "s") != other.key_for("a", "k", "s")


async def test_store_reports_fresh_then_stale_then_gone(clock: FakeClock) -> None:
    metrics = Metrics()
    store = _store(clock, metrics)
    assert await store.lookup("water", "bills", "x") is None
    await store.store("water", "bills", "x", b"payload", fresh_ttl=10, stale_ttl=100)
    entry = await store.lookup("water", "bills", "x")
    assert entry is not None and entry.payload == b"payload" and entry.is_fresh(clock())
    clock.now += 50
    entry = await store.lookup("water", "bills", "x")
    assert entry is not None and not entry.is_fresh(clock())
    clock.now += 60
    assert await store.lookup("water", "bills", "x") is None
    assert _lookups(metrics, "bills", "miss") == 2
    assert _lookups(metrics, "bills", "hit") == 1
    assert _lookups(metrics, "bills", "stale") == 1


async def test_negative_entries_round_trip(clock: FakeClock) -> None:
    store = _store(clock, Metrics())
    await store.store("post", "address", "x", b"", fresh_ttl=5, stale_ttl=5, not_found=True)
    entry = await store.lookup("post", "address", "x")
    assert entry is not None and entry.not_found and entry.payload == b""


class BrokenBackend:
    name = "broken"

    async def get(self, key: str) -> bytes | None:
        raise ConnectionError("down")

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        raise ConnectionError("down")

    async def delete(self, key: str) -> None:
        raise ConnectionError("down")

    async def close(self) -> None:
        return None


async def test_a_failing_backend_is_a_miss_not_an_error(clock: FakeClock) -> None:
    metrics = Metrics()
    store = _store(clock, metrics, BrokenBackend())
    await store.store("water", "bills", "x", b"v", fresh_ttl=10, stale_ttl=10)
    assert await store.lookup("water", "bills", "x") is None
    assert _lookups(metrics, "bills", "error") == 1
    assert await store.ping() is False


async def test_encrypted_payloads_are_unreadable_at_rest(clock: FakeClock) -> None:
    backend = MemoryCache(clock=clock)
    store = CacheStore(
        backend, key_secret=b"s", metrics=Metrics(), encryption_key=b"k" * 32, clock=clock
    )
    secret = "علی محمدی 0012345679".encode()
    await store.store("civil-registry", "person", "x", secret, fresh_ttl=10, stale_ttl=10)
    raw = await backend.get(store.key_for("civil-registry", "person", "x"))
    assert raw is not None and secret not in raw
    entry = await store.lookup("civil-registry", "person", "x")
    assert entry is not None and entry.payload == secret


async def test_tampered_or_foreign_entries_are_misses(clock: FakeClock) -> None:
    backend = MemoryCache(clock=clock)
    metrics = Metrics()
    store = CacheStore(backend, key_secret=b"s", metrics=metrics, encryption_key=b"k" * 32,
                       clock=clock)  # fmt: skip
    await store.store("post", "address", "a", b"payload", fresh_ttl=10, stale_ttl=10)
    key_a = store.key_for("post", "address", "a")
    raw = await backend.get(key_a)
    assert raw is not None
    # The same ciphertext moved under another subject's key fails authentication.
    await backend.set(store.key_for("post", "address", "b"), raw, 10)
    assert await store.lookup("post", "address", "b") is None
    # A different key cannot read it, and a plaintext reader does not mistake it for data.
    other = CacheStore(backend, key_secret=b"s", metrics=metrics, encryption_key=b"j" * 32,
                       clock=clock)  # fmt: skip
    assert await other.lookup("post", "address", "a") is None
    plain = CacheStore(backend, key_secret=b"s", metrics=metrics, clock=clock)
    assert await plain.lookup("post", "address", "a") is None


async def test_leases_are_exclusive_until_released(clock: FakeClock) -> None:
    store = _store(clock, Metrics())
    assert await store.acquire_lease("water", "bills", "x", ttl=5) is True
    assert await store.acquire_lease("water", "bills", "x", ttl=5) is False
    await store.release_lease("water", "bills", "x")
    assert await store.acquire_lease("water", "bills", "x", ttl=5) is True
    clock.now += 6
    assert await store.acquire_lease("water", "bills", "x", ttl=5) is True
