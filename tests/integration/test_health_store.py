"""The health store contract, run against the memory store and a real Redis; then what only
Redis does: expiry on every key, a restart read back, and the fallback while Redis is down.

Redis tests use the session's Redis (`redis_cache`: env REDIS_URL or a throwaway server) under a
key prefix of their own; the outage test starts a private server it can kill.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from cache.redis import RedisCache
from observability.agency_health.book import AgencyHealthBook
from observability.agency_health.fallback_store import FallbackHealthStore
from observability.agency_health.memory_store import MemoryHealthStore
from observability.agency_health.model import AgencyState, Failure, Incident, Sample, Window
from observability.agency_health.redis_store import RedisHealthStore
from observability.agency_health.store import (
    HOUR_KEEP_S,
    MINUTE_KEEP_S,
    RECORD_KEEP_S,
    ROLL_MARK_KEEP_S,
    TICK_KEEP_S,
    AgencyRecord,
    HealthStore,
)
from observability.agency_health.tally import Shares, Tally
from tests.redis_server import delete_namespace, throwaway_redis, unique_namespace
from tests.support.health import T0
from tests.support.redis_topologies import TOPOLOGIES, every_topology, topology_url
from tests.support.scripted_transport import Clock

MINUTE = int(T0 // 60)
HOUR = int(T0 // 3600)


def _tally(ok: int = 0, failed: int = 0, kind: Failure = Failure.TIMEOUT, **more: int) -> Tally:
    tally = Tally(ok=ok, failed=failed, maintenance=more.get("maintenance", 0))
    if failed:
        tally.failures = {kind: failed}
    tally.latency = {bucket: n for bucket, n in more.items() if isinstance(bucket, int)}
    return tally


def _incident(n: int, agency: str = "water") -> Incident:
    return Incident(
        id=f"{agency}-{n}",
        agency=agency,
        started_at=T0 + n * 100,
        ended_at=T0 + n * 100 + 50,
        worst=AgencyState.DOWN,
        failures={Failure.REFUSED: n + 1, Failure.SERVER_ERROR: 2},
    )


redis_url = every_topology()


@pytest.fixture(params=["memory", *(pytest.param(t, marks=pytest.mark.redis) for t in TOPOLOGIES)])
async def store(
    request: pytest.FixtureRequest,
) -> AsyncIterator[HealthStore]:
    if request.param == "memory":
        yield MemoryHealthStore(max_incidents=5, clock=Clock(T0))
        return
    url = topology_url(request, request.param)  # single Redis, Cluster or Sentinel
    cache = RedisCache.from_url(url, socket_timeout=2.0)
    namespace = unique_namespace()
    try:
        yield RedisHealthStore(cache.client, namespace=namespace.rstrip(":"), max_incidents=5)
    finally:
        await delete_namespace(cache.client, namespace)
        await cache.close()


async def test_minute_tallies_add_up_across_writers(store: HealthStore) -> None:
    await store.add({("water", MINUTE): _tally(ok=3, failed=1)}, {})
    await store.add(
        {("water", MINUTE): _tally(ok=1, failed=2, kind=Failure.REFUSED)},
        {},
    )
    await store.add({("gas", MINUTE + 1): _tally(maintenance=2)}, {})
    found = await store.minutes("water", [MINUTE - 1, MINUTE, MINUTE + 1])
    assert list(found) == [MINUTE]
    tally = found[MINUTE]
    assert (tally.ok, tally.failed, tally.maintenance) == (4, 3, 0)
    assert tally.failures == {Failure.TIMEOUT: 1, Failure.REFUSED: 2}
    assert (await store.minutes("gas", [MINUTE + 1]))[MINUTE + 1].maintenance == 2


async def test_latency_buckets_are_kept(store: HealthStore) -> None:
    tally = Tally(ok=5, latency={3: 2, 40: 3})
    await store.add({("water", MINUTE): tally}, {})
    await store.add({("water", MINUTE): Tally(ok=1, latency={40: 1})}, {})
    assert (await store.minutes("water", [MINUTE]))[MINUTE].latency == {3: 2, 40: 4}


async def test_calls_since_the_last_tick_are_taken_once(store: HealthStore) -> None:
    await store.add({}, {"water": _tally(ok=2, failed=1)})
    await store.add({}, {"water": _tally(ok=1)})
    said = _tally(maintenance=2)
    said.back_at = T0 + 600.5  # when calls answered 503 + Retry-After said it is back
    await store.add({}, {"water": said})
    taken = await store.take_tick("water")
    assert (taken.ok, taken.failed, taken.failures) == (3, 1, {Failure.TIMEOUT: 1})
    assert (taken.maintenance, taken.back_at) == (2, T0 + 600.5)
    assert (await store.take_tick("water")).empty
    assert (await store.take_tick("gas")).empty


async def test_a_minute_rolls_into_its_hour_once(store: HealthStore) -> None:
    half = _tally(ok=1, failed=1).shares()
    assert await store.roll_up("water", {MINUTE: half}) == {MINUTE}
    assert await store.roll_up("water", {MINUTE: half, MINUTE + 1: half}) == {MINUTE + 1}
    assert await store.roll_up("water", {}) == set()
    shares = await store.hours("water", [HOUR, HOUR + 1])
    assert list(shares) == [HOUR]
    assert shares[HOUR] == Shares(
        minutes_excluding=2, good_excluding=1.0, minutes_including=2, good_including=1.0
    )
    assert await store.hours("gas", [HOUR]) == {}


async def test_records_and_incidents(store: HealthStore) -> None:
    assert await store.records(["water", "gas"]) == {}
    open_incident = Incident("water-x", "water", T0, None, AgencyState.DEGRADED, {})
    record = AgencyRecord("water", AgencyState.DEGRADED, T0, T0 + 15, False, open_incident)
    await store.save(record)
    assert await store.records(["water", "gas"]) == {"water": record}
    for n in range(8):  # more than max_incidents=5
        await store.save(record, _incident(n))
    kept = await store.closed_incidents("water", 10)
    assert [i.id for i in kept] == [f"water-{n}" for n in (7, 6, 5, 4, 3)]
    assert kept[0] == _incident(7)
    assert [i.id for i in await store.closed_incidents("water", 2)] == ["water-7", "water-6"]
    assert await store.closed_incidents("gas", 3) == []
    maintenance = AgencyRecord("gas", AgencyState.MAINTENANCE, T0, T0, False, back_at=T0 + 600)
    await store.save(maintenance)
    assert (await store.records(["gas"]))["gas"] == maintenance
    said = AgencyRecord(
        "gas",
        AgencyState.MAINTENANCE,
        T0,
        T0 + 15,
        probe_failed=True,
        origin="agency",
        back_at=T0 + 600,
        hold_until=T0 + 600,
        outage=((MINUTE, 3), (MINUTE + 1, 2)),
    )
    await store.save(said)
    assert (await store.records(["gas"]))["gas"] == said


async def test_a_record_is_saved_only_over_the_one_it_was_judged_from(
    store: HealthStore,
) -> None:
    """Two instances judging at once (a probe that outlived its lease) both read the same
    record; the one that saves second must not replace the first's newer judgement."""
    first = AgencyRecord("water", AgencyState.UP, T0, T0, True)
    assert await store.save(first, replacing=None)  # nothing stored: nothing replaced
    assert not await store.save(first, replacing=None)  # now there is
    opened = Incident("water-1", "water", T0 + 15, None, AgencyState.DEGRADED, {})
    second = AgencyRecord("water", AgencyState.DEGRADED, T0 + 15, T0 + 15, True, opened)
    assert await store.save(second, replacing=T0)
    late = AgencyRecord("water", AgencyState.UP, T0, T0 + 14, True)  # judged from `first`
    assert not await store.save(late, _incident(1), replacing=T0)
    assert await store.records(["water"]) == {"water": second}
    assert await store.closed_incidents("water", 5) == []  # nor the incident it closed
    third = AgencyRecord("water", AgencyState.UP, T0 + 30, T0 + 30, True)
    assert await store.save(third, _incident(1), replacing=T0 + 15)
    assert await store.save(second, replacing=T0 + 40)  # a store that lost a save: older is ok
    assert await store.save(third)  # unchecked
    assert await store.records(["water"]) == {"water": third}
    assert [i.id for i in await store.closed_incidents("water", 5)] == ["water-1"]


async def test_memory_forgets_what_redis_lets_expire() -> None:
    clock = Clock(T0)
    store = MemoryHealthStore(clock=clock)
    await store.add({("water", MINUTE): _tally(ok=1)}, {})
    await store.roll_up("water", {MINUTE: _tally(ok=1).shares()})
    clock.advance(MINUTE_KEEP_S + 60)
    assert await store.minutes("water", [MINUTE]) == {}
    assert HOUR in await store.hours("water", [HOUR])
    clock.advance(HOUR_KEEP_S)
    assert await store.hours("water", [HOUR]) == {}
    # the minute's roll-up mark is gone too: nothing but what is kept is held
    assert await store.roll_up("water", {MINUTE: _tally(ok=1).shares()}) == {MINUTE}


class _CutOff:
    """A Redis client that loses its connection after `round_trips` more pipelines or scripts,
    as a timeout between two of them would: what was sent before went through, nothing
    after does."""

    def __init__(self, client: Any, round_trips: int) -> None:
        self._client = client
        self._left = round_trips

    def _spend(self) -> None:
        if self._left <= 0:
            raise ConnectionError("the connection to Redis was lost")
        self._left -= 1

    def pipeline(self, transaction: bool = True) -> Any:
        pipe = self._client.pipeline(transaction=transaction)
        execute = pipe.execute

        async def cut_execute(*args: Any, **kwargs: Any) -> Any:
            self._spend()
            return await execute(*args, **kwargs)

        pipe.execute = cut_execute
        return pipe

    async def eval(self, *args: Any) -> Any:
        self._spend()
        return await self._client.eval(*args)


@pytest.mark.redis
@pytest.mark.parametrize("round_trips", [0, 1])
async def test_a_roll_up_cut_short_loses_no_minute(
    redis_cache: tuple[RedisCache, str], round_trips: int
) -> None:
    """A minute is marked rolled and added to its hour in one step: cut short anywhere, the
    next roll-up adds what the cut one did not. Before, a roll-up cut after its first round
    trip marked the minutes rolled without adding them, and they were lost."""
    cache, namespace = redis_cache
    store = RedisHealthStore(cache.client, namespace=namespace.rstrip(":"))
    cut = RedisHealthStore(_CutOff(cache.client, round_trips), namespace=namespace.rstrip(":"))
    half = _tally(ok=1, failed=1).shares()
    minutes = {MINUTE: half, MINUTE + 1: half}
    with contextlib.suppress(ConnectionError):
        await cut.roll_up("water", minutes)
    await store.roll_up("water", minutes)  # the next one, on a connection that works
    hour = (await store.hours("water", [HOUR])).get(HOUR)
    assert hour == Shares(minutes_excluding=2, good_excluding=1.0, minutes_including=2,
                          good_including=1.0)  # fmt: skip


@pytest.mark.redis
async def test_every_redis_key_expires(redis_cache: tuple[RedisCache, str]) -> None:
    cache, namespace = redis_cache
    store = RedisHealthStore(cache.client, namespace=namespace.rstrip(":"))
    await store.add({("water", MINUTE): _tally(ok=1)}, {"water": _tally(ok=1)})
    await store.roll_up("water", {MINUTE: _tally(ok=1).shares()})
    record = AgencyRecord("water", AgencyState.UP, T0, T0, True)
    await store.save(record, _incident(1))
    keys = [key.decode() async for key in cache.client.scan_iter(match=f"{namespace}*")]
    assert len(keys) == 6, keys
    limits = {
        ":m:": MINUTE_KEEP_S,
        ":h:": HOUR_KEEP_S,
        ":rolled:": ROLL_MARK_KEEP_S,
        ":tick": TICK_KEEP_S,
        ":state": RECORD_KEEP_S,
        ":incidents": RECORD_KEEP_S,
    }
    for key in keys:
        [limit] = [s for part, s in limits.items() if part in key]
        ttl = await cache.client.ttl(key)
        assert 0 < ttl <= limit + 1, (key, ttl)
        assert "{water}" in key  # one hash slot per agency (Cluster transactions)


@pytest.mark.redis
async def test_a_book_on_redis_reads_state_and_history_back_after_a_restart(
    redis_url: str, redis_cache: tuple[RedisCache, str]
) -> None:
    _, namespace = redis_cache
    clock = Clock(T0)

    def book() -> AgencyHealthBook:
        store = RedisHealthStore.from_url(
            redis_url, namespace=namespace.rstrip(":"), socket_timeout=2.0
        )
        return AgencyHealthBook(["water"], store, clock=clock)

    first = book()
    for n in range(6):
        clock.advance(15)
        probe = Sample("water", clock(), n < 3, 0.2, failure=None if n < 3 else Failure.REFUSED)
        await first.evaluate("water", probe, clock())
    for _ in range(4):  # an hour and a half, maintained: the noon minutes roll into their hour
        clock.advance(1800)
        await first.maintain()
    await first.close()

    second = book()
    await second.start()
    snapshot = await second.snapshot("water")
    assert snapshot.state is AgencyState.DOWN and snapshot.since == T0 + 5 * 15
    [incident] = await second.incidents("water", 3)
    assert incident.failures == {Failure.REFUSED: 3} and incident.ended_at is None
    assert incident.started_at == T0 + 4 * 15  # DEGRADED first: 1 failure in 4 samples
    day = await second.availability("water", Window.DAY)
    assert day.excluding_maintenance == pytest.approx(0.5)  # 3 good of 6, in two minutes
    await second.close()


@pytest.mark.redis
async def test_while_redis_is_down_the_book_goes_on_from_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "panjereh.health")
    clock = Clock(T0)
    with throwaway_redis() as (url, server):
        redis = RedisHealthStore.from_url(url, namespace="health-outage", socket_timeout=0.3)
        store = FallbackHealthStore(redis, MemoryHealthStore(clock=clock), retry_after_s=0.0)
        book = AgencyHealthBook(["water"], store, clock=clock)

        async def tick(ok: bool) -> AgencyState:
            clock.advance(15)
            failure = None if ok else Failure.TIMEOUT
            probe = Sample("water", clock(), ok, 0.2, failure=failure, probe=True)
            return await book.evaluate("water", probe, clock())

        assert [await tick(True) for _ in range(2)] == [AgencyState.UP] * 2
        server.kill()
        assert [await tick(False) for _ in range(2)] == [AgencyState.UP, AgencyState.DOWN]
        assert store.degraded
        assert (await book.incidents("water", 3))[0].ended_at is None
        server.restart()  # empty: the fleet's store lost everything
        assert await tick(False) is AgencyState.DOWN
        assert not store.degraded
        shared = await redis.records(["water"])
        assert shared["water"].state is AgencyState.DOWN  # written to Redis again
        await book.close()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("failed" in m for m in messages) == 1, messages
    assert sum("is back" in m for m in messages) == 1, messages
