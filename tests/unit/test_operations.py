"""The operations layer on an in-memory cache with a fake clock: no sockets, no agency.

`load` functions stand in for the agency call (the thing replaced); `OperationRunner`, the cache
store and the memory backend are the real ones.
"""

from __future__ import annotations

import asyncio

import pytest
from pydantic import TypeAdapter

from cache.memory import MemoryCache
from cache.store import CacheStore
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.operations import OperationRunner
from connectors.pipeline.policy import AgencyPolicy
from domain.errors import AgencyNotFound, AgencyTimeout, AgencyUnavailable
from observability.metrics import Metrics

ADAPTER: TypeAdapter[list[int]] = TypeAdapter(list[int])
POLICY = AgencyPolicy(timeout=1.0, fresh_ttl=10, stale_ttl=100, not_found_ttl=5, refresh_ahead=0.2)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Agency:
    """A stand-in agency: answers `value`, or raises `error`, after `delay` seconds."""

    def __init__(self, value: list[int] | None = None, delay: float = 0.0) -> None:
        self.value = value or [1]
        self.delay = delay
        self.error: Exception | None = None
        self.calls = 0
        self.deadlines: list[Deadline] = []

    async def __call__(self, deadline: Deadline) -> list[int]:
        self.calls += 1
        self.deadlines.append(deadline)
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return list(self.value)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def runner(clock: Clock, metrics: Metrics) -> OperationRunner:
    store = CacheStore(MemoryCache(clock=clock), key_secret=b"k", metrics=metrics, clock=clock)
    return OperationRunner("water", POLICY, store, metrics)


def _stale_served(metrics: Metrics) -> float:
    value = metrics.registry.get_sample_value("panjereh_stale_served_total", {"agency": "water"})
    return value or 0.0


async def test_identical_concurrent_calls_share_one_load(runner: OperationRunner) -> None:
    agency = Agency(delay=0.05)
    results = await asyncio.gather(*(runner.run("bills", "x", agency, ADAPTER) for _ in range(20)))
    assert agency.calls == 1
    assert {r.value for r in results} == {(1,)}


async def test_a_cancelled_caller_does_not_cancel_the_others(runner: OperationRunner) -> None:
    agency = Agency(delay=0.1)
    leader = asyncio.create_task(runner.run("bills", "x", agency, ADAPTER))
    await asyncio.sleep(0.01)
    follower = asyncio.create_task(runner.run("bills", "x", agency, ADAPTER))
    await asyncio.sleep(0.01)
    leader.cancel()
    assert (await follower).value == (1,)
    assert agency.calls == 1


async def test_each_caller_waits_only_until_its_own_deadline(runner: OperationRunner) -> None:
    agency = Agency(delay=0.5)
    patient = asyncio.create_task(runner.run("bills", "x", agency, ADAPTER))

    async def hurried() -> None:
        await runner.run("bills", "x", agency, ADAPTER, Deadline.after(0.05))

    started = asyncio.get_running_loop().time()
    with pytest.raises(AgencyTimeout):
        await hurried()
    assert asyncio.get_running_loop().time() - started < 0.35
    assert (await patient).value == (1,)  # the flight went on and answered the patient caller
    assert agency.calls == 1


async def test_stale_copy_is_served_marked_when_the_agency_fails(
    runner: OperationRunner, clock: Clock, metrics: Metrics
) -> None:
    agency = Agency()
    fresh = await runner.run("bills", "x", agency, ADAPTER)
    clock.now += 50  # past fresh, within stale
    agency.error = AgencyUnavailable("water", "down", transient=True)
    stale = await runner.run("bills", "x", agency, ADAPTER)
    assert stale.value == (1,) and stale.source.stale is True
    assert stale.source.fetched_at == fresh.source.fetched_at
    assert stale.source.failure is agency.error  # why it is stale, for the client to be told
    assert fresh.source.failure is None
    assert _stale_served(metrics) == 1
    clock.now += 60  # past the stale window too
    with pytest.raises(AgencyUnavailable):
        await runner.run("bills", "x", agency, ADAPTER)


async def test_near_expiry_answers_at_once_and_refreshes_in_the_background(
    runner: OperationRunner, clock: Clock, metrics: Metrics
) -> None:
    agency = Agency(value=[1])
    await runner.run("bills", "x", agency, ADAPTER)
    clock.now += 9  # inside the last 20% of the fresh window
    agency.value = [2]
    answer = await runner.run("bills", "x", agency, ADAPTER)
    assert answer.value == (1,) and answer.source.stale is False
    await asyncio.sleep(0.01)  # let the refresh land
    assert agency.calls == 2
    assert (await runner.run("bills", "x", agency, ADAPTER)).value == (2,)
    agency.error = AgencyUnavailable("water", "down", transient=True)
    clock.now += 9
    await runner.run("bills", "x", agency, ADAPTER)  # starts a refresh that fails
    await asyncio.sleep(0.01)
    assert _stale_served(metrics) == 0  # nobody was served stale data


async def test_not_found_is_cached_briefly(runner: OperationRunner, clock: Clock) -> None:
    agency = Agency()
    agency.error = AgencyNotFound("water", "no such customer")
    sources = []
    for _ in range(3):
        with pytest.raises(AgencyNotFound) as info:
            await runner.run("bills", "x", agency, ADAPTER)
        sources.append(info.value.source)
    assert agency.calls == 1
    # "No record" is an answer with a source: when it was given, and until when it holds.
    first = sources[0]
    assert first is not None and first.agency == "water" and first.stale is False
    assert first.fresh_until is not None
    assert (first.fresh_until - first.fetched_at).total_seconds() == POLICY.not_found_ttl
    assert all(s is not None and s.fetched_at == first.fetched_at for s in sources[1:])
    clock.now += 6
    with pytest.raises(AgencyNotFound):
        await runner.run("bills", "x", agency, ADAPTER)
    assert agency.calls == 2


async def test_an_entry_that_no_longer_fits_the_model_is_a_miss(
    runner: OperationRunner,
) -> None:
    await runner.cache.store("water", "bills", "x", b'{"not": "a list"}', fresh_ttl=10,
                             stale_ttl=10)  # fmt: skip
    agency = Agency(value=[7])
    assert (await runner.run("bills", "x", agency, ADAPTER)).value == (7,)
    assert agency.calls == 1


async def test_close_cancels_flights_in_progress(runner: OperationRunner) -> None:
    agency = Agency(delay=10)
    caller = asyncio.create_task(runner.run("bills", "x", agency, ADAPTER))
    await asyncio.sleep(0.01)
    await runner.close()
    with pytest.raises(asyncio.CancelledError):
        await caller


async def test_a_caller_with_a_stale_copy_waits_only_the_grace_period(
    clock: Clock, metrics: Metrics
) -> None:
    store = CacheStore(MemoryCache(clock=clock), key_secret=b"k", metrics=metrics, clock=clock)
    runner = OperationRunner("water", POLICY.replace(stale_grace_s=0.05), store, metrics)
    agency = Agency(value=[1])
    await runner.run("bills", "x", agency, ADAPTER)
    clock.now += 50
    agency.value, agency.delay = [2], 0.5  # the agency has become slow
    started = asyncio.get_running_loop().time()
    answer = await runner.run("bills", "x", agency, ADAPTER)
    assert asyncio.get_running_loop().time() - started < 0.35
    assert answer.value == (1,) and answer.source.stale is True
    await asyncio.sleep(0.6)  # the call went on and refreshed the cache
    assert (await runner.run("bills", "x", agency, ADAPTER)).value == (2,)


async def test_each_kind_is_stored_with_its_own_windows(clock: Clock, metrics: Metrics) -> None:
    store = CacheStore(MemoryCache(clock=clock), key_secret=b"k", metrics=metrics, clock=clock)
    policy = POLICY.replace(kind_ttls={"vehicles": (1000.0, 5000.0)})
    runner = OperationRunner("traffic-police", policy, store, metrics)
    agency = Agency()
    await runner.run("vehicles", "x", agency, ADAPTER)
    await runner.run("fines", "x", agency, ADAPTER)
    clock.now += 20  # past the agency's 10 s fresh window, inside vehicles' 1000 s
    await runner.run("vehicles", "x", agency, ADAPTER)
    await runner.run("fines", "x", agency, ADAPTER)
    assert agency.calls == 3  # only fines were asked again
