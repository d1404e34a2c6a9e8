"""The fleet's health book: samples in, state, availability, incidents and changes out.

    record(sample)      sync, O(1): added to this instance's buffer
      └─ every `flush_interval_s` (`maintain`; and at close): one batch of increments to the
         store (minute tallies, and calls since the last tick), then settled minutes rolled up
    evaluate(agency, probe, now)   the instance holding the agency's probe lease, each tick:
         the probe's sample flushed with the rest, calls since the previous tick taken, the
         last 5 minutes read, `judge.judge` → the agency's record (and incident) saved, only
         over the record it was judged from; a change it judged is logged (here only)
    refresh(agencies)   every other instance, each tick: the shared records read
    both: gauges set (`gauges.HealthGauges`), a changed state published (`changes()`); a
         record older than the one known (reads that overlap) is ignored
    snapshot, availability, bars, incidents   reads for ops, the status page, metrics

Where state lives: the store (`store.HealthStore`; memory on the embedded default, Redis with a
memory fallback when `REDIS_URL` is set) holds what the fleet shares; this instance keeps only
its unflushed samples, what it last learnt of each agency (`read_max_age_s` old at most for
snapshots) and the settled history it has read (`history.History`). Times are unix seconds from
the injected `clock`: tests move it, nothing here sleeps but the flush loop.

A failing store never reaches a caller: writes and reads that fail are logged once (and again
when the store is back) and answered from what this instance knows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from domain.errors import InvalidInput
from observability.agency_health.changes import ChangeFeed, Subscription
from observability.agency_health.gauges import HealthGauges
from observability.agency_health.history import History
from observability.agency_health.judge import Tick, entered_window, judge, next_record
from observability.agency_health.model import (
    AgencySnapshot,
    AgencyState,
    Availability,
    AvailabilityBar,
    Incident,
    MaintenanceSource,
    MaintenanceWindow,
    Sample,
    Window,
)
from observability.agency_health.settings import HealthSettings
from observability.agency_health.store import AgencyRecord, HealthStore
from observability.agency_health.tally import Tally
from observability.metrics import Metrics

__all__ = ["AgencyHealthBook"]

log = logging.getLogger("panjereh.health")

T = TypeVar("T")

_UPCOMING_S = 7 * 86400.0  # how far ahead `next_maintenance` looks
_BAR_WINDOWS = (Window.DAY, Window.WEEK)


class AgencyHealthBook:
    """`HealthBook` over a `HealthStore`, for the agencies it is given.

    `maintenance` (a `MaintenanceSource`) may be given here or set later as an attribute;
    `metrics`, when given, receives the health gauges at each tick. `clock` is unix time and
    `sleep` the flush loop's wait (both injectable).
    """

    def __init__(
        self,
        agencies: Iterable[str],
        store: HealthStore,
        *,
        settings: HealthSettings | None = None,
        metrics: Metrics | None = None,
        maintenance: MaintenanceSource | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.agencies: tuple[str, ...] = tuple(agencies)
        self.store = store
        self.settings = settings or HealthSettings()
        self.maintenance = maintenance
        self._clock = clock
        self._sleep = sleep
        self._gauges = HealthGauges(metrics) if metrics is not None else None
        self._history = History(store)
        self._feed = ChangeFeed()
        self._minutes: dict[tuple[str, int], Tally] = {}  # unflushed, by (agency, minute)
        self._calls: dict[str, Tally] = {}  # unflushed real calls, by agency
        self._flushing = asyncio.Lock()
        self._known: dict[str, AgencyRecord] = {}
        self._p95: dict[str, float | None] = {}
        self._viewed_at: dict[str, float] = {}
        self._started_at = clock()
        self._failing: set[str] = set()  # what is failing now, logged once
        self._task: asyncio.Task[None] | None = None

    # -- samples in ------------------------------------------------------------------------------

    def record(self, sample: Sample) -> None:
        """Buffer one sample (every attempt's, every probe's): no I/O, never raises."""
        key = (sample.agency, math.floor(sample.at / 60))
        minute = self._minutes.get(key)
        if minute is None:
            minute = self._minutes[key] = Tally()
        minute.add(sample)
        if not sample.probe:
            calls = self._calls.get(sample.agency)
            if calls is None:
                calls = self._calls[sample.agency] = Tally()
            calls.add(sample)

    async def flush(self) -> None:
        """Write the buffered samples to the store in one batch (waits for a flush under way)."""
        async with self._flushing:
            if not self._minutes and not self._calls:
                return
            minutes, calls = self._minutes, self._calls
            self._minutes, self._calls = {}, {}
            await self._guard("write", self.store.add(minutes, calls), None)

    # -- each tick -------------------------------------------------------------------------------

    async def evaluate(
        self, agency: str, probe: Sample, now: float, *, retry_after: float | None = None
    ) -> AgencyState:
        """Judge `agency` after this tick's `probe` (recorded here: do not `record` it too), save
        its record for the fleet and return its state. `retry_after` is the probe's
        Retry-After, kept as the end of a maintenance the agency announced (unless the sample
        has its `back_at`).

        The record is saved only over the one this judgement started from: if another instance
        judged the agency meanwhile (a probe that outlived its lease), its record stands and is
        what this instance learns."""
        self._check(agency)
        probe = replace(probe, probe=True)  # not counted among the calls since the last tick
        window = await self._window_at(agency, now)
        recorded = probe
        if window is not None and not probe.maintenance:  # in a window: counted as planned
            recorded = replace(probe, ok=False, failure=None, maintenance=True)
        self.record(recorded)
        await self.flush()
        read = await self._guard("read", self.store.records([agency]), None)
        previous = read.get(agency) if read is not None else self._known.get(agency)
        calls = await self._guard("read", self.store.take_tick(agency), Tally())
        recent = await self._guard("read", self._history.recent(agency, now), Tally())
        tick = Tick(probe, calls, recent, window=window, retry_after=retry_after)
        verdict = judge(
            tick,
            previous,
            now,
            degraded_ratio=self.settings.degraded_ratio,
            min_samples=self.settings.degraded_min_samples,
        )
        record, closed = next_record(previous, agency, verdict, tick, now)
        replacing = previous.at if previous is not None else None
        saved = await self._guard(
            "write", self.store.save(record, closed, replacing=replacing), True
        )
        if saved:
            self._learn(record)
            _log_change(previous, record, closed, now)
        else:
            log.debug("agency %s was judged by another instance meanwhile", agency)
            newer = await self._guard("read", self.store.records([agency]), None)
            for each in (newer or {}).values():
                self._learn(each)
        await self._show_counts(agency, recent, now)
        known = self._known.get(agency)
        return known.state if known is not None else record.state

    async def refresh(self, agencies: Sequence[str] | None = None) -> None:
        """Read the shared records of `agencies` (all by default): what instances that do not
        evaluate an agency do each tick. A changed state is published, gauges are set."""
        names = list(agencies) if agencies is not None else list(self.agencies)
        for agency in names:
            self._check(agency)
        now = self._clock()
        records = await self._guard("read", self.store.records(names), None)
        for record in (records or {}).values():
            self._learn(record)
        for agency in names:
            await self._show_counts(agency, None, now)

    # -- reads -----------------------------------------------------------------------------------

    async def snapshot(self, agency: str) -> AgencySnapshot:
        self._check(agency)
        await self._read_due([agency])
        return await self._snapshot_of(agency, self._clock())

    async def snapshots(self) -> list[AgencySnapshot]:
        """Every agency: one read of the shared records for all of them, not one each."""
        await self._read_due(self.agencies)
        now = self._clock()
        return list(await asyncio.gather(*(self._snapshot_of(a, now) for a in self.agencies)))

    async def _snapshot_of(self, agency: str, now: float) -> AgencySnapshot:
        record, p95 = self._known.get(agency), self._p95.get(agency)
        state = record.state if record is not None else AgencyState.UP
        since = record.since if record is not None else self._started_at
        window = await self._window_at(agency, now)
        if window is not None and state is not AgencyState.MAINTENANCE:
            # a window ops just set, or one that began since the last tick: MAINTENANCE now,
            # as the next tick will record it
            state, since = AgencyState.MAINTENANCE, entered_window(window, record)
        if window is None and record is not None and record.back_at is not None:
            # a maintenance the agency announced itself (only MAINTENANCE records keep back_at)
            window = MaintenanceWindow(agency, record.since, record.back_at, origin="agency")
        return AgencySnapshot(
            agency=agency,
            state=state,
            since=since,
            latency_p95=p95,
            maintenance=window,
            next_maintenance=await self._next_window(agency, now),
        )

    async def availability(self, agency: str, window: Window) -> Availability:
        self._check(agency)
        window = Window(window)  # ValueError for what is not a window
        reading = self._history.availability(agency, window, self._clock())
        return await self._guard("read", reading, Availability(window, None, None))

    async def bars(self, agency: str, window: Window) -> list[AvailabilityBar]:
        """24 hourly bars for DAY, 7 daily bars (UTC days) for WEEK, oldest first."""
        self._check(agency)
        window = Window(window)
        if window not in _BAR_WINDOWS:
            raise InvalidInput("window", "availability bars are drawn for 24h and 7d only")
        return await self._guard("read", self._history.bars(agency, window, self._clock()), [])

    async def incidents(self, agency: str | None, first: int) -> list[Incident]:
        """Newest first (by start), open ones included; all agencies when `agency` is None."""
        if first < 1:
            raise InvalidInput("first", "first must be at least 1")
        first = min(first, self.settings.max_incidents + 1)
        names = [agency] if agency is not None else list(self.agencies)
        found: list[Incident] = []
        for name in names:
            self._check(name)
            record, _ = await self._current(name)
            if record is not None and record.incident is not None:
                found.append(record.incident)
            found += await self._guard("read", self.store.closed_incidents(name, first), [])
        found.sort(key=lambda incident: incident.started_at, reverse=True)
        return found[:first]

    def changes(self) -> Subscription:
        """State changes from now on, as this instance learns them (its own judgement or the
        fleet's); a subscriber that falls behind loses the oldest. `aclose()` it when done."""
        return self._feed.subscribe()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Read what the fleet (or a previous run) knows, then flush in the background."""
        await self.refresh()
        if self._task is None:
            self._task = asyncio.create_task(self._flush_loop(), name="agency-health-flush")

    async def close(self) -> None:
        """Stop the loop, flush what is buffered, end subscriptions, close the store.

        The loop is stopped between two flushes, never in the middle of one: a batch taken
        from the buffer and cut off on its way to the store would be lost."""
        task, self._task = self._task, None
        if task is not None:
            async with self._flushing:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()
        await self._feed.close()
        await self.store.close()

    async def maintain(self) -> None:
        """Flush, then roll the minutes that settled into their hours: what the background loop
        does every `flush_interval_s` (tests call it after moving the clock)."""
        await self.flush()
        await self._guard("roll-up", self._history.roll_up(self.agencies, self._clock()), None)

    async def _flush_loop(self) -> None:
        while True:
            await self._sleep(self.settings.flush_interval_s)
            await self.maintain()

    # -- what this instance knows ----------------------------------------------------------------

    def _learn(self, record: AgencyRecord) -> None:
        """Take `record` as the agency's state unless what is known is newer (reads that
        overlap, a tick's and a snapshot's, may come back in any order); publish a change (an
        agency never judged was shown UP) and set its state gauges."""
        old = self._known.get(record.agency)
        if old is not None and record.at < old.at:
            return
        self._known[record.agency] = record
        old_state = old.state if old is not None else AgencyState.UP
        if old_state is not record.state:
            self._feed.publish(record.changed_from(old_state))
        if self._gauges is not None:
            self._gauges.show_state(record.agency, record.state, record.origin)

    async def _current(self, agency: str) -> tuple[AgencyRecord | None, float | None]:
        """The agency's record and p95, read again if older than `read_max_age_s`."""
        await self._read_due([agency])
        return self._known.get(agency), self._p95.get(agency)

    async def _read_due(self, agencies: Sequence[str]) -> None:
        """Read again the records and p95 of those of `agencies` last read more than
        `read_max_age_s` ago: one read of the records for all of them, their recent minutes
        side by side."""
        now = self._clock()
        max_age = self.settings.read_max_age_s
        due = [a for a in agencies if now - self._viewed_at.get(a, -math.inf) > max_age]
        if not due:
            return
        records = await self._guard("read", self.store.records(due), None)
        for record in (records or {}).values():
            self._learn(record)
        recents = await asyncio.gather(
            *(self._guard("read", self._history.recent(a, now), None) for a in due)
        )
        for agency, recent in zip(due, recents, strict=True):
            if recent is not None:
                self._p95[agency] = recent.quantile(0.95)
            self._viewed_at[agency] = now

    async def _show_counts(self, agency: str, recent: Tally | None, now: float) -> None:
        """Remember the p95 and set the count gauges (failure ratio, p95, availability)."""
        if recent is None:
            recent = await self._guard("read", self._history.recent(agency, now), Tally())
        self._p95[agency] = recent.quantile(0.95)
        self._viewed_at[agency] = now
        if self._gauges is None:
            return
        availability = [
            await self._guard(
                "read",
                self._history.availability(agency, window, now),
                Availability(window, None, None),
            )
            for window in Window
        ]
        self._gauges.show_counts(agency, recent, availability)

    async def _window_at(self, agency: str, now: float) -> MaintenanceWindow | None:
        if self.maintenance is None:
            return None
        return await self._guard("maintenance", self.maintenance.window_at(agency, now), None)

    async def _next_window(self, agency: str, now: float) -> MaintenanceWindow | None:
        if self.maintenance is None:
            return None
        upcoming = await self._guard(
            "maintenance", self.maintenance.upcoming(agency, now, _UPCOMING_S), []
        )
        return upcoming[0] if upcoming else None

    def _check(self, agency: str) -> None:
        if agency not in self.agencies:
            raise InvalidInput("agency", f"unknown agency; known: {', '.join(self.agencies)}")

    async def _guard(self, what: str, call: Awaitable[T], failed: T) -> T:
        """`call`'s answer, or `failed` if it raised: logged once until it works again."""
        try:
            answer = await call
        except Exception as exc:  # the store or a calendar failing must never fail a caller
            if what not in self._failing:
                self._failing.add(what)
                log.warning(
                    "agency health %s failed (%s); going on with what this instance knows",
                    what,
                    type(exc).__name__,
                )
            return failed
        if what in self._failing:
            self._failing.discard(what)
            log.info("agency health %s works again", what)
        return answer


_SEVERITY = {
    AgencyState.UP: 0,
    AgencyState.MAINTENANCE: 0,  # planned or announced: not trouble
    AgencyState.DEGRADED: 1,
    AgencyState.DOWN: 2,
}


def _log_change(
    previous: AgencyRecord | None, record: AgencyRecord, closed: Incident | None, now: float
) -> None:
    """One line for a state change this instance judged (not for those it reads): WARNING
    towards DOWN, INFO back from it; with the incident it opened or closed."""
    old = previous.state if previous is not None else AgencyState.UP
    new = record.state
    if old is new:
        return
    agency = record.agency
    fields: dict[str, Any] = {"agency": agency, "old_state": str(old), "new_state": str(new)}
    message = f"agency {agency}: {old} -> {new}"
    opened = record.incident
    if opened is not None and (previous is None or previous.incident is None):
        message += f"; incident {opened.id} opened"
        fields["incident"] = opened.id
    elif opened is not None:
        fields["incident"] = opened.id
    if closed is not None:
        seconds = closed.duration(now)
        failures = {str(kind): n for kind, n in sorted(closed.failures.items())}
        counts = ", ".join(f"{kind} {n}" for kind, n in failures.items()) or "none"
        message += (
            f"; incident {closed.id} closed after {seconds:.0f} s "
            f"(worst {closed.worst}; failures: {counts})"
        )
        fields |= {
            "incident": closed.id,
            "incident_seconds": round(seconds, 3),
            "incident_worst": str(closed.worst),
            "incident_failures": failures,
        }
    worse = _SEVERITY[new] > _SEVERITY[old]
    log.log(logging.WARNING if worse else logging.INFO, "%s", message, extra=fields)
