"""State changes fanned out to subscribers, the gauges every instance sets, and a store that
fails: never an error for whoever records, reads or ticks.

Real: the book, its change feed, its in-memory store, the metrics. `BrokenStore` stands in for a
Redis that is down (the book's dependency, not the book).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import pytest

from observability.agency_health.book import AgencyHealthBook
from observability.agency_health.memory_store import MemoryHealthStore
from observability.agency_health.model import AgencyState, Failure, Sample, StateChange, Window
from observability.agency_health.settings import HealthSettings
from observability.agency_health.store import AgencyRecord
from observability.agency_health.tally import Shares, Tally
from observability.metrics import Metrics
from tests.support.health import T0, Call, HealthRig
from tests.support.scripted_transport import Clock

UP, DEGRADED, DOWN = AgencyState.UP, AgencyState.DEGRADED, AgencyState.DOWN


async def _take(subscription: Any, n: int) -> list[StateChange]:
    return [await asyncio.wait_for(anext(subscription), 1) for _ in range(n)]


async def test_every_subscriber_gets_every_change_in_order() -> None:
    rig = HealthRig()
    first, second = rig.book.changes(), rig.book.changes()
    await rig.ticks(20)
    await rig.ticks(2, probe=Failure.REFUSED)  # the second silent tick running is DOWN
    down_at = rig.clock()
    await rig.ticks(2)
    expected = [
        StateChange("water", UP, DOWN, down_at),
        StateChange("water", DOWN, DEGRADED, down_at + 15),
        StateChange("water", DEGRADED, UP, down_at + 30),
    ]
    assert await _take(first, 3) == expected
    assert await _take(second, 3) == expected
    await first.aclose()
    await rig.ticks(2, probe=Failure.REFUSED)
    assert [c.new for c in await _take(second, 1)] == [DOWN]
    await rig.book.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(second), 1)  # closing the book ends subscriptions


async def test_a_slow_subscriber_loses_the_oldest_changes_and_holds_up_nobody() -> None:
    rig = HealthRig()
    slow, keen = rig.book.changes(), rig.book.changes()
    seen: list[StateChange] = []

    async def follow() -> None:
        async for change in keen:
            seen.append(change)

    follower = asyncio.create_task(follow())
    states = []
    for n in range(600):  # in and out of maintenance: a change every tick
        states.append(await rig.tick(maintenance=n % 2 == 0))
        await asyncio.sleep(0)  # the keen one reads as changes come
    assert len(seen) > 500 and keen.dropped == 0
    assert slow.dropped == len(seen) - 256
    pending = [change async for change in _drain(slow)]
    assert pending == seen[-256:]  # bounded: the newest ones, in order
    assert pending[-1].new is states[-1]
    await keen.aclose()
    await asyncio.wait_for(follower, 1)


async def _drain(subscription: Any) -> Any:
    while True:
        try:
            yield await asyncio.wait_for(anext(subscription), 0.05)
        except TimeoutError:
            return


async def test_a_change_judged_by_another_instance_is_published_on_refresh() -> None:
    judge = HealthRig()
    reader = HealthRig(clock=judge.clock, store=judge.store)
    await reader.book.refresh()
    changes = reader.book.changes()
    await judge.tick("gas", probe=Failure.TIMEOUT)  # nothing answered before: DOWN
    await reader.book.refresh(["gas"])
    assert await _take(changes, 1) == [StateChange("gas", UP, DOWN, judge.clock())]


async def test_every_instance_sets_the_same_gauges_from_the_shared_state() -> None:
    judge = HealthRig()
    reader = HealthRig(clock=judge.clock, store=judge.store)
    for n in range(20):
        failures = [Call(ok=False, failure=Failure.SERVER_ERROR, seconds=0.4)] * (n % 2)
        await judge.tick(calls=[Call(seconds=0.2)] * 3 + failures)
    await reader.book.refresh()
    for rig in (judge, reader):
        gauge = rig.gauge
        assert gauge("panjereh_agency_state", agency="water", state="DEGRADED") == 1
        assert gauge("panjereh_agency_state", agency="water", state="UP") == 0
        assert gauge("panjereh_agency_up", agency="water") == 1
        assert gauge("panjereh_agency_maintenance", agency="water") == 0
        assert gauge("panjereh_agency_failure_ratio", agency="water") == pytest.approx(10 / 90)
        assert gauge("panjereh_agency_latency_p95_seconds", agency="water") == pytest.approx(
            0.4, rel=0.2
        )
        for window in Window:
            labels = {"agency": "water", "window": window.value}
            excluded = gauge("panjereh_agency_availability_ratio", maintenance="excluded", **labels)
            assert excluded is not None and 0.8 < excluded < 1
    # gas was never judged: the reader's refresh shows no samples (NaN) and no state
    assert math.isnan(reader.gauge("panjereh_agency_failure_ratio", agency="gas") or 0.0)
    assert reader.gauge("panjereh_agency_up", agency="gas") is None


class BrokenStore:
    """A store whose every call fails, as Redis does while it is down."""

    name = "broken"

    def __init__(self) -> None:
        self.calls = 0

    def _fail(self) -> NoReturn:
        self.calls += 1
        raise ConnectionError("the store is unreachable")

    async def add(
        self, minutes: Mapping[tuple[str, int], Tally], ticks: Mapping[str, Tally]
    ) -> None:
        self._fail()

    async def minutes(self, agency: str, indices: Sequence[int]) -> dict[int, Tally]:
        self._fail()

    async def hours(self, agency: str, indices: Sequence[int]) -> dict[int, Shares]:
        self._fail()

    async def roll_up(self, agency: str, minutes: Mapping[int, Shares]) -> set[int]:
        self._fail()

    async def take_tick(self, agency: str) -> Tally:
        self._fail()

    async def records(self, agencies: Sequence[str]) -> dict[str, AgencyRecord]:
        self._fail()

    async def save(self, record: AgencyRecord, closed: Any = None, **check: Any) -> bool:
        self._fail()

    async def closed_incidents(self, agency: str, first: int) -> list[Any]:
        self._fail()

    async def close(self) -> None:
        return None


async def test_a_failing_store_fails_nobody_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock(T0)
    store = BrokenStore()
    book = AgencyHealthBook(
        ["water"], store, metrics=Metrics(), clock=clock, settings=HealthSettings()
    )
    caplog.set_level(logging.WARNING, "panjereh.health")
    await book.start()
    for _ in range(5):
        clock.advance(15)
        book.record(Sample("water", clock(), False, 0.1, failure=Failure.REFUSED))
        probe = Sample("water", clock(), False, 0.1, failure=Failure.REFUSED, probe=True)
        assert await book.evaluate("water", probe, clock()) is DOWN  # judged on what it knows
        await book.maintain()
    assert (await book.snapshot("water")).state is DOWN
    [incident] = await book.incidents("water", 3)
    incident_id = incident.id
    assert (await book.availability("water", Window.DAY)).excluding_maintenance is None
    assert await book.bars("water", Window.DAY) == []
    await book.close()
    assert store.calls > 20
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    failing = [w for w in warnings if w.startswith("agency health")]
    assert len(failing) <= 3, warnings  # once per kind (write, read, roll-up), not per call
    assert all("going on with what this instance knows" in w for w in failing)
    assert set(warnings) - set(failing) == {
        f"agency water: UP -> DOWN; incident {incident_id} opened"
    }


class _CountingStore(MemoryHealthStore):
    """The in-memory store, counting how often the shared records are read."""

    record_reads = 0

    async def records(self, agencies: Sequence[str]) -> dict[str, AgencyRecord]:
        self.record_reads += 1
        return await super().records(agencies)


async def test_all_agencies_snapshots_read_the_shared_records_once() -> None:
    agencies = [f"agency-{n}" for n in range(16)]
    clock = Clock(T0)
    store = _CountingStore(clock=clock)
    rig = HealthRig(agencies, clock=clock, store=store)
    await rig.tick("agency-3", probe=Failure.REFUSED)
    clock.advance(60)  # every record older than read_max_age_s
    before = store.record_reads
    snapshots = await rig.book.snapshots()
    assert store.record_reads - before == 1
    assert [s.agency for s in snapshots] == agencies
    assert {s.agency for s in snapshots if s.state is AgencyState.DOWN} == {"agency-3"}
    again = store.record_reads
    await rig.book.snapshots()  # within read_max_age_s: nothing read
    assert store.record_reads == again


class HeldStore:
    """An in-memory store whose first `add` is held until released (a write to Redis under
    way): the book's dependency, standing still."""

    def __init__(self, clock: Clock) -> None:
        self.store = MemoryHealthStore(clock=clock)
        self.held, self.release = asyncio.Event(), asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def add(self, minutes: Mapping[Any, Tally], ticks: Mapping[str, Tally]) -> None:
        if not self.held.is_set():
            self.held.set()
            await self.release.wait()
        await self.store.add(minutes, ticks)


async def test_closing_while_a_flush_is_under_way_loses_none_of_its_samples() -> None:
    clock = Clock(T0)
    store = HeldStore(clock)
    loop_waits = iter([0.0])

    async def sleep(seconds: float) -> None:  # one flush at once, then none before the close
        if next(loop_waits, None) is None:
            await asyncio.Event().wait()

    book = AgencyHealthBook(["water"], store, clock=clock, sleep=sleep)  # type: ignore[arg-type]
    await book.start()
    book.record(Sample("water", clock(), True, 0.1))
    await asyncio.wait_for(store.held.wait(), 1)  # the loop's flush is writing it now
    closing = asyncio.create_task(book.close())
    await asyncio.sleep(0.01)
    book.record(Sample("water", clock(), False, 0.1, failure=Failure.REFUSED))  # after: too
    store.release.set()
    await asyncio.wait_for(closing, 1)

    minute = (await store.store.minutes("water", [int(T0 // 60)]))[int(T0 // 60)]
    assert (minute.ok, minute.failed) == (1, 1)


class _HeldStore(MemoryHealthStore):
    """The in-memory store, where a test can hold the next read of the records (answered with
    what was stored when it began) or the next save until it lets go: the order in which two
    connections to Redis may answer."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.hold_read: asyncio.Event | None = None
        self.hold_save: asyncio.Event | None = None

    async def records(self, agencies: Sequence[str]) -> dict[str, AgencyRecord]:
        found = await super().records(agencies)
        hold, self.hold_read = self.hold_read, None
        if hold is not None:
            await hold.wait()
        return found

    async def save(self, record: AgencyRecord, closed: Any = None, **check: Any) -> bool:
        hold, self.hold_save = self.hold_save, None
        if hold is not None:
            await hold.wait()
        return await super().save(record, closed, **check)


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_read_overtaken_by_a_newer_one_never_takes_the_state_back() -> None:
    clock = Clock(T0)
    store = _HeldStore(clock=clock)
    judge = HealthRig(clock=clock, store=store)
    reader = HealthRig(clock=clock, store=store)
    await judge.ticks(20)
    await reader.book.refresh()
    changes = reader.book.changes()
    store.hold_read = release = asyncio.Event()
    slow = asyncio.create_task(reader.book.refresh(["water"]))  # reads UP, answers late
    await _settle()
    assert (await judge.ticks(2, probe=Failure.REFUSED))[-1] is DOWN
    await reader.book.refresh(["water"])  # reads DOWN
    release.set()
    await slow  # ... and then the UP read before it
    assert (await reader.book.snapshot("water")).state is DOWN
    assert [(c.old, c.new) async for c in _drain(changes)] == [(UP, DOWN)]
    assert reader.gauge("panjereh_agency_state", agency="water", state="DOWN") == 1
    assert reader.gauge("panjereh_agency_up", agency="water") == 0


async def test_of_two_instances_judging_at_once_the_later_save_does_not_overwrite() -> None:
    """A probe that outlived its lease: instance A read the record, instance B judged and
    saved meanwhile; A's judgement (from the older record) is not saved over B's, and A
    takes B's. Before, A's DEGRADED with its incident replaced B's UP."""
    clock = Clock(T0)
    store = _HeldStore(clock=clock)
    first = HealthRig(clock=clock, store=store)
    second = HealthRig(clock=clock, store=store)
    await first.ticks(20)
    first.calls("water", [Call(ok=False, failure=Failure.TIMEOUT)] * 3)
    store.hold_save = release = asyncio.Event()
    clock.advance(15)
    probe = Sample("water", clock(), False, 2.0, failure=Failure.TIMEOUT, probe=True)
    slow = asyncio.create_task(first.book.evaluate("water", probe, clock()))
    await _settle()  # it judged DEGRADED (its tick's calls all failed) and waits to save
    clock.advance(5)
    assert await second.tick(interval=0) is UP
    release.set()
    assert await slow is UP  # what the fleet's record says, not its own judgement
    [record] = (await store.records(["water"])).values()
    assert (record.state, record.at, record.incident) == (UP, clock(), None)
    assert await first.book.incidents("water", 5) == []
    assert (await first.book.snapshot("water")).state is UP


async def test_state_changes_are_logged_by_the_instance_that_judged_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    judge = HealthRig()
    reader = HealthRig(clock=judge.clock, store=judge.store)
    caplog.set_level(logging.DEBUG, "panjereh.health")
    await judge.ticks(20)
    timeouts = [Call(ok=False, failure=Failure.TIMEOUT)] * 3
    await judge.ticks(3, probe=Failure.REFUSED, calls=timeouts)
    await reader.book.refresh()
    [incident] = await judge.book.incidents("water", 1)
    await judge.ticks(2)
    await reader.book.refresh()
    lines = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [(r.levelno, r.getMessage()) for r in lines] == [
        (logging.WARNING, f"agency water: UP -> DEGRADED; incident {incident.id} opened"),
        (logging.WARNING, "agency water: DEGRADED -> DOWN"),
        (logging.INFO, "agency water: DOWN -> DEGRADED"),
        (
            logging.INFO,
            f"agency water: DEGRADED -> UP; incident {incident.id} closed after 60 s "
            "(worst DOWN; failures: refused 3, timeout 9)",
        ),
    ]  # the reader learnt the same changes and logged none of them
    closing = lines[-1]
    assert (closing.agency, closing.old_state, closing.new_state) == ("water", "DEGRADED", "UP")  # type: ignore[attr-defined]
    assert closing.incident == incident.id  # type: ignore[attr-defined]
    assert closing.incident_seconds == 60  # type: ignore[attr-defined]
    assert closing.incident_failures == {"refused": 3, "timeout": 9}  # type: ignore[attr-defined]
