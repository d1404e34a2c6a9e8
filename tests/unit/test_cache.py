"""The cache contract, run against every backend, and the typed store above it."""

from __future__ import annotations

import asyncio
import logging

import pytest

from cache.backend import CacheBackend
from cache.fallback import FallbackCache
from cache.memory import MemoryCache
from cache.store import UNDECODED, CacheStore
from observability.metrics import Metrics


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "fallback", "fallback-degraded"])
def backend(request: pytest.FixtureRequest, clock: FakeClock) -> CacheBackend:
    """Every backend that can run without a socket (Redis runs the same contract in
    tests/integration/test_redis_cache.py): memory, and the fallback wrapper both over a healthy
    primary and over a dead one (all served from its memory fallback)."""
    memory = MemoryCache(max_entries=3, clock=clock)
    if request.param == "memory":
        return memory
    primary: CacheBackend = (
        MemoryCache(max_entries=3, clock=clock) if request.param == "fallback" else BrokenBackend()
    )
    return FallbackCache(primary, memory, metrics=Metrics(), clock=clock)


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


async def test_backend_adds_only_when_absent(backend: CacheBackend, clock: FakeClock) -> None:
    assert await backend.add("lease", b"first", ttl=5) is True
    assert await backend.add("lease", b"second", ttl=5) is False
    assert await backend.get("lease") == b"first"  # a refused add leaves the value alone
    await backend.set("taken", b"v", ttl=10)
    assert await backend.add("taken", b"other", ttl=10) is False
    await backend.delete("lease")
    assert await backend.add("lease", b"third", ttl=5) is True
    clock.now += 5.5  # an expired lease is free again
    assert await backend.add("lease", b"fourth", ttl=5) is True
    assert await backend.get("lease") == b"fourth"


async def test_backend_deletes_only_its_own_value(backend: CacheBackend) -> None:
    await backend.set("lease", b"mine", ttl=5)
    assert await backend.delete_if("lease", b"theirs") is False
    assert await backend.get("lease") == b"mine"
    assert await backend.delete_if("lease", b"mine") is True
    assert await backend.get("lease") is None
    assert await backend.delete_if("lease", b"mine") is False


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


def _lookups(metrics: Metrics, agency: str, kind: str, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "panjereh_cache_lookups_total", {"agency": agency, "kind": kind, "result": result}
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
    assert _lookups(metrics, "water", "bills", "miss") == 2
    assert _lookups(metrics, "water", "bills", "hit") == 1
    assert _lookups(metrics, "water", "bills", "stale") == 1


async def test_lookups_are_counted_by_agency(clock: FakeClock) -> None:
    """Gas and water both cache `bills`: a cold gas cache must not hide in water's hits."""
    metrics = Metrics()
    store = _store(clock, metrics)
    await store.store("water", "bills", "x", b"payload", fresh_ttl=10, stale_ttl=100)
    assert await store.lookup("water", "bills", "x") is not None
    assert await store.lookup("gas", "bills", "x") is None
    assert _lookups(metrics, "water", "bills", "hit") == 1
    assert _lookups(metrics, "water", "bills", "miss") == 0
    assert _lookups(metrics, "gas", "bills", "miss") == 1
    assert _lookups(metrics, "gas", "bills", "hit") == 0


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

    async def add(self, key: str, value: bytes, ttl: float) -> bool:
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
    assert _lookups(metrics, "water", "bills", "error") == 1
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
    first = await store.acquire_lease("water", "bills", "x", ttl=5)
    assert first is not None
    assert await store.acquire_lease("water", "bills", "x", ttl=5) is None
    await store.release_lease("water", "bills", "x", first)
    second = await store.acquire_lease("water", "bills", "x", ttl=5)
    assert second is not None
    clock.now += 6  # the second holder's lease expired; a third instance takes it
    third = await store.acquire_lease("water", "bills", "x", ttl=5)
    assert third is not None
    await store.release_lease("water", "bills", "x", second)  # late release: not its lease now
    assert await store.acquire_lease("water", "bills", "x", ttl=5) is None


class SwitchableBackend(MemoryCache):
    """A memory backend that can be made to fail, counting the calls that reach it."""

    name = "redis"

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.down = False
        self.calls = 0
        self.gate: asyncio.Event | None = None

    async def get(self, key: str) -> bytes | None:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return await super().get(key)


def _degraded_gauge(metrics: Metrics) -> float | None:
    return metrics.registry.get_sample_value("panjereh_cache_degraded")


def _backend_errors(metrics: Metrics) -> float:
    value = metrics.registry.get_sample_value(
        "panjereh_cache_backend_errors_total", {"backend": "redis"}
    )
    return value or 0.0


async def test_fallback_degrades_once_waits_then_probes_and_recovers(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    primary, memory, metrics = SwitchableBackend(clock), MemoryCache(clock=clock), Metrics()
    cache = FallbackCache(primary, memory, metrics=metrics, retry_after_s=2.0, clock=clock)
    assert (cache.name, cache.degraded, _degraded_gauge(metrics)) == ("redis", False, 0)
    await memory.set("k", b"from memory", 60)
    primary.down = True
    with caplog.at_level(logging.INFO, logger="cache.fallback"):
        assert await cache.get("k") == b"from memory"  # the failing call itself is served
        for _ in range(10):
            assert await cache.get("k") == b"from memory"
        assert primary.calls == 1  # nothing reached the primary within retry_after_s
        assert cache.degraded and cache.name == "redis(degraded→memory)"
        assert _degraded_gauge(metrics) == 1 and _backend_errors(metrics) == 1
        clock.now += 2.0
        assert await cache.get("k") == b"from memory"  # a probe, failed: 2 s more
        assert primary.calls == 2 and _backend_errors(metrics) == 2
        clock.now += 1.9
        await cache.get("k")
        assert primary.calls == 2
        primary.down = False
        clock.now += 0.1
        assert await cache.get("k") is None  # the probe succeeds: the primary answers again
        assert not cache.degraded and _degraded_gauge(metrics) == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ConnectionError" in warnings[0].getMessage()
    assert "'k'" not in warnings[0].getMessage()
    assert any("recovered" in r.getMessage() for r in caplog.records)


async def test_fallback_sends_one_probe_at_a_time(clock: FakeClock) -> None:
    primary, metrics = SwitchableBackend(clock), Metrics()
    cache = FallbackCache(primary, MemoryCache(clock=clock), metrics=metrics, clock=clock)
    primary.down = True
    await cache.get("k")
    clock.now += 2.0
    primary.down, primary.gate = False, asyncio.Event()
    probe = asyncio.create_task(cache.get("k"))
    await asyncio.sleep(0)
    assert primary.calls == 2  # the probe is waiting inside the primary
    assert await cache.get("k") is None  # others are served from memory meanwhile
    assert primary.calls == 2
    primary.gate.set()
    await probe
    assert not cache.degraded


async def test_fallback_gives_up_on_a_hanging_primary(clock: FakeClock) -> None:
    primary, metrics = SwitchableBackend(clock), Metrics()
    primary.gate = asyncio.Event()  # never set: the primary hangs
    cache = FallbackCache(
        primary, MemoryCache(clock=clock), metrics=metrics, clock=clock, primary_timeout_s=0.05
    )
    assert await cache.get("k") is None
    assert cache.degraded and _degraded_gauge(metrics) == 1 and _backend_errors(metrics) == 1


async def test_fallback_never_raises_even_when_both_fail(clock: FakeClock) -> None:
    cache = FallbackCache(BrokenBackend(), BrokenBackend(), metrics=Metrics(), clock=clock)
    assert await cache.get("k") is None
    await cache.set("k", b"v", 10)
    await cache.delete("k")
    assert await cache.add("k", b"v", 10) is True  # no lease can be had: everyone loads
    await cache.close()


async def test_store_over_a_dead_primary_serves_from_memory(clock: FakeClock) -> None:
    metrics = Metrics()
    cache = FallbackCache(BrokenBackend(), MemoryCache(clock=clock), metrics=metrics, clock=clock)
    store = _store(clock, metrics, cache)
    assert await store.lookup("water", "bills", "x") is None
    await store.store("water", "bills", "x", b"v", fresh_ttl=10, stale_ttl=10)
    entry = await store.lookup("water", "bills", "x")
    assert entry is not None and entry.payload == b"v"
    assert _lookups(metrics, "water", "bills", "error") == 0  # degraded, not failing
    assert await store.ping() is True


class WireBackend(MemoryCache):
    """Stands for a shared backend: what it returns is bytes read back, never the object it
    was given (as Redis does)."""

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await super().set(key, bytes(value), ttl)


@pytest.mark.parametrize("encrypted", [False, True])
async def test_an_in_process_backend_hands_back_the_stored_object(
    clock: FakeClock, encrypted: bool
) -> None:
    key = b"\x01" * 32 if encrypted else None
    store = CacheStore(
        MemoryCache(clock=clock), key_secret=b"k", metrics=Metrics(), clock=clock,
        encryption_key=key,
    )  # fmt: skip
    value = ("a", "b")
    await store.store("water", "bills", "s", b'["a","b"]', value=value, fresh_ttl=10, stale_ttl=20)
    entry = await store.lookup("water", "bills", "s")
    assert entry is not None and entry.value is value  # not decoded, not decrypted: the object
    assert (await store.peek("water", "bills", "s")).value is value  # type: ignore[union-attr]


@pytest.mark.parametrize("encrypted", [False, True])
async def test_a_shared_backend_gets_bytes_and_entries_are_decoded_from_them(
    clock: FakeClock, encrypted: bool
) -> None:
    backend = WireBackend(clock=clock)
    key = b"\x01" * 32 if encrypted else None
    store = CacheStore(backend, key_secret=b"k", metrics=Metrics(), clock=clock, encryption_key=key)
    await store.store("water", "bills", "s", b'["a","b"]', value=("a", "b"), fresh_ttl=10,
                      stale_ttl=20)  # fmt: skip
    raw = await backend.get(store.key_for("water", "bills", "s"))
    assert type(raw) is bytes and (b'["a","b"]' in raw) is not encrypted
    entry = await store.lookup("water", "bills", "s")
    assert entry is not None and entry.value is UNDECODED and entry.payload == b'["a","b"]'
    assert entry.is_fresh(clock())
