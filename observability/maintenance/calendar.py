"""The maintenance calendar: when each agency is in planned maintenance, now and ahead.

    nightly windows (settings, Tehran wall clock) ─┐
    one-off windows set by ops ─ WindowStore ──────┼─▶ snapshot ─▶ active() / next()   (sync, hot)
        (memory; or Redis, re-read every sync_s) ──┘            ─▶ window_at() / upcoming()
                                                                    (MaintenanceSource, async)

Overlapping or touching windows of an agency count as one stretch: `active()` at 01:30 under a
nightly 00:00-02:00 and an ops window 02:00-04:00 ends at 04:00, the time the citizen is told.
`active()` is what every agency call asks, so it does no I/O: it reads the snapshot of one-off
windows this instance holds (updated at once by its own changes, every `sync_s` from Redis for
other instances') and remembers each agency's answer for as long as it holds.

Times are unix seconds (the `clock`, injectable); one-off windows are kept to the whole second.
Ops' changes are validated here (known agency, end after start, not in the past, bounded length
and lead, no overlap with another one-off window of the agency) and refused with `InvalidInput`
naming the argument, `NotFound` for removing a window that is not there.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import logging
import math
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidInput, NotFound
from domain.jalali import format_tehran_moment
from observability.agency_health.model import MaintenanceWindow
from observability.background import cancel_and_wait
from observability.maintenance.config import MaintenanceSettings
from observability.maintenance.nightly import NightlyWindow
from observability.maintenance.store import MemoryWindowStore, RedisWindowStore, WindowStore

__all__ = ["MaintenanceCalendar", "WindowLimits"]

log = logging.getLogger(__name__)

Moment = float | int | dt.datetime
"""A time as ops give it: unix seconds, or an aware datetime."""

_REACH_S = 3 * 86_400.0  # how far around a moment windows are gathered to find its stretch
_PAST_TOLERANCE_S = 60.0  # a window "starting now" may start a little before the clock
_KEEP_ENDED_S = 7 * 86_400.0  # ended one-off windows stay a week (availability looks back 7 d)
_NOTE_MAX = 200
_STORE_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class WindowLimits:
    """Bounds on a one-off window: its length, how far ahead it starts, how many at once."""

    max_length_s: float = 6 * 3600
    max_ahead_s: float = 90 * 86_400
    max_windows: int = 50


class MaintenanceCalendar:
    """Nightly and one-off maintenance windows of the gateway's agencies (a `MaintenanceSource`)."""

    def __init__(
        self,
        agencies: Iterable[str],
        *,
        nightly: Mapping[str, Sequence[NightlyWindow]] | None = None,
        store: WindowStore | None = None,
        limits: WindowLimits = WindowLimits(),
        sync_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.agencies = tuple(agencies)
        nightly = dict(nightly or {})
        unknown = sorted(set(nightly) - set(self.agencies))
        if unknown:
            raise ValueError(f"nightly maintenance for unknown agencies: {', '.join(unknown)}")
        self.nightly: dict[str, tuple[NightlyWindow, ...]] = {
            agency: tuple(windows) for agency, windows in nightly.items() if windows
        }
        self.store: WindowStore = store if store is not None else MemoryWindowStore()
        self.limits = limits
        self.sync_s = sync_s
        self._clock = clock
        self._sleep = sleep
        self._one_off: dict[str, tuple[MaintenanceWindow, ...]] = {}  # by agency, by start
        self._memo: dict[str, tuple[float, float, MaintenanceWindow | None]] = {}
        self._planned = frozenset(self.nightly)
        self._task: asyncio.Task[None] | None = None
        self._sync_failing = False

    @classmethod
    def from_settings(
        cls,
        settings: MaintenanceSettings,
        agencies: Iterable[str],
        *,
        redis_url: str | None = None,
        namespace: str = "panjereh",
        clock: Callable[[], float] = time.time,
    ) -> MaintenanceCalendar:
        """The calendar of `settings`; one-off windows in Redis when `redis_url` is given."""
        store: WindowStore = (
            RedisWindowStore.from_url(redis_url, namespace=namespace)
            if redis_url
            else MemoryWindowStore()
        )
        limits = WindowLimits(settings.max_window_s, settings.max_ahead_s, settings.max_windows)
        return cls(
            agencies,
            nightly=settings.nightly,
            store=store,
            limits=limits,
            sync_s=settings.sync_s,
            clock=clock,
        )

    def now(self) -> float:
        return self._clock()

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the one-off windows once, then (on a shared store) every `sync_s`."""
        await self.sync()
        if self.store.shared and self._task is None:
            self._task = asyncio.create_task(self._keep_synced(), name="maintenance-calendar")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self.store.close()

    async def _keep_synced(self) -> None:
        while True:
            await self._sleep(self.sync_s)
            await self.sync()

    async def sync(self) -> bool:
        """Re-read the one-off windows (dropping those ended over a week ago); False, keeping
        what it had, when the store cannot answer."""
        try:
            async with asyncio.timeout(_STORE_TIMEOUT_S):
                windows = await self.store.all()
                old = self._clock() - _KEEP_ENDED_S
                for window in [w for w in windows if w.ends_at < old]:
                    await self.store.delete(window.agency, window.starts_at)
                    windows.remove(window)
        except Exception as exc:  # the hot path keeps the last snapshot; ops' calls say it
            if not self._sync_failing:
                log.warning("maintenance windows could not be read: %s", type(exc).__name__)
            self._sync_failing = True
            return False
        if self._sync_failing:
            log.info("maintenance windows are read again")
        self._sync_failing = False
        self._take(windows)
        return True

    def _take(self, windows: Iterable[MaintenanceWindow]) -> None:
        by_agency: dict[str, list[MaintenanceWindow]] = {}
        for window in windows:
            by_agency.setdefault(window.agency, []).append(window)
        snapshot = {
            agency: tuple(sorted(found, key=lambda w: (w.starts_at, w.ends_at)))
            for agency, found in by_agency.items()
        }
        if snapshot != self._one_off:
            self._one_off = snapshot
            self._memo = {}
        now = self._clock()
        self._planned = frozenset(self.nightly) | {
            agency for agency, found in snapshot.items() if any(w.ends_at > now for w in found)
        }

    # -- the hot path -----------------------------------------------------------------------

    def active(self, agency: str, at: float | None = None) -> MaintenanceWindow | None:
        """The stretch of planned maintenance `agency` is in at `at` (default: now), or None.
        Cheap and synchronous: no I/O, and most calls are one dict lookup."""
        at = self._clock() if at is None else at
        memo = self._memo.get(agency)
        if memo is not None and memo[0] <= at < memo[1]:
            return memo[2]
        stretches = self._stretches(agency, at - _REACH_S, at + _REACH_S)
        before, after = at - _REACH_S, at + _REACH_S
        found: MaintenanceWindow | None = None
        for stretch in stretches:
            if stretch.starts_at <= at < stretch.ends_at:
                found, before, after = stretch, stretch.starts_at, stretch.ends_at
                break
            if stretch.ends_at <= at:
                before = max(before, stretch.ends_at)
            elif stretch.starts_at > at:
                after = min(after, stretch.starts_at)
        self._memo[agency] = (before, after, found)
        return found

    def planned(self, agency: str) -> bool:
        """Whether `agency` has a nightly window, or a one-off window not over (as of the last
        sync): whether its recent operations are worth remembering for a refresh."""
        return agency in self._planned

    def next(self, agency: str, after: float | None = None) -> MaintenanceWindow | None:
        """The next stretch of planned maintenance starting after `after` (default: now)."""
        after = self._clock() if after is None else after
        until = after + 2 * 86_400.0  # nightly windows recur daily: the next one is in reach
        one_offs = self._one_off.get(agency, ())
        if one_offs:
            until = max(until, one_offs[-1].ends_at + 1)
        for stretch in self._stretches(agency, after - _REACH_S, until):
            if stretch.starts_at > after:
                return stretch
        return None

    # -- MaintenanceSource ------------------------------------------------------------------

    async def window_at(self, agency: str, at: float) -> MaintenanceWindow | None:
        return self.active(agency, at)

    async def upcoming(self, agency: str, after: float, within: float) -> list[MaintenanceWindow]:
        """Stretches starting in [after, after + within), earliest first."""
        until = after + within
        return [
            stretch
            for stretch in self._stretches(agency, after - _REACH_S, until + _REACH_S)
            if after <= stretch.starts_at < until
        ]

    # -- ops --------------------------------------------------------------------------------

    async def add_window(
        self, agency: str, starts_at: Moment, ends_at: Moment, note: str = ""
    ) -> MaintenanceWindow:
        """Put `agency` in maintenance from `starts_at` to `ends_at` (unix seconds or aware
        datetimes; kept to the whole second) on every instance. `InvalidInput` (field
        `agency`, `startsAt`, `endsAt` or `note`) when it is not a window ops may set."""
        self._known(agency)
        start = math.floor(_seconds(starts_at, "startsAt"))
        end = math.ceil(_seconds(ends_at, "endsAt"))
        note = _clean_note(note)
        now = self._clock()
        if end <= start:
            raise InvalidInput("endsAt", "the window must end after it starts")
        if end <= now:
            raise InvalidInput("endsAt", "the window has already ended")
        if start < now - _PAST_TOLERANCE_S:
            raise InvalidInput("startsAt", "the window must not start in the past")
        if end - start > self.limits.max_length_s:
            hours = self.limits.max_length_s / 3600
            raise InvalidInput("endsAt", f"a maintenance window may last at most {hours:g} h")
        if start - now > self.limits.max_ahead_s:
            days = self.limits.max_ahead_s / 86_400
            raise InvalidInput("startsAt", f"a window may start at most {days:g} days ahead")
        window = MaintenanceWindow(agency, float(start), float(end), origin="ops", note=note)
        current = [w for w in await self.store.all() if w.agency == agency and w.ends_at > now]
        clash = next((w for w in current if w.starts_at < end and start < w.ends_at), None)
        if clash is not None:
            raise InvalidInput(
                "startsAt",
                f"{agency} already has a maintenance window from "
                f"{format_tehran_moment(clash.starts_at)} to {format_tehran_moment(clash.ends_at)}"
                "; remove it or choose another time",
            )
        if len(current) >= self.limits.max_windows:
            raise InvalidInput(
                "agency", f"{agency} already has {len(current)} maintenance windows to come"
            )
        if not await self.store.put(window):
            raise InvalidInput("startsAt", f"{agency} already has a window starting then")
        log.debug(  # the ops resolver logs the change at WARNING, with the ops client
            "maintenance window of %s set: %s to %s",
            agency,
            _iso(window.starts_at),
            _iso(window.ends_at),
        )
        await self.sync()
        return window

    async def remove_window(self, agency: str, starts_at: Moment) -> MaintenanceWindow:
        """Remove the one-off window of `agency` starting at `starts_at` (ended early, or
        called off) on every instance; `NotFound` when there is none."""
        self._known(agency)
        start = _seconds(starts_at, "startsAt")
        removed = await self.store.delete(agency, start)
        if removed is None:
            raise NotFound(f"{agency} has no maintenance window set by ops starting then")
        log.debug(  # the ops resolver logs the change at WARNING, with the ops client
            "maintenance window of %s removed: %s to %s",
            agency,
            _iso(removed.starts_at),
            _iso(removed.ends_at),
        )
        await self.sync()
        return removed

    async def windows(self, agency: str | None = None) -> list[MaintenanceWindow]:
        """One-off windows not yet over (of `agency`, or of every agency), as the store holds
        them now, earliest first."""
        if agency is not None:
            self._known(agency)
        now = self._clock()
        found = [
            w
            for w in await self.store.all()
            if w.ends_at > now and (agency is None or w.agency == agency)
        ]
        return sorted(found, key=lambda w: (w.starts_at, w.agency))

    # -- internals --------------------------------------------------------------------------

    def _known(self, agency: str) -> None:
        if agency not in self.agencies:
            raise InvalidInput("agency", f"unknown agency {agency!r}")

    def _windows(self, agency: str, since: float, until: float) -> list[MaintenanceWindow]:
        """Nightly occurrences and one-off windows of `agency` overlapping [since, until)."""
        found = [
            MaintenanceWindow(agency, start, end, origin="calendar", note=f"nightly {nightly}")
            for nightly in self.nightly.get(agency, ())
            for start, end in nightly.occurrences(since, until)
        ]
        one_offs = self._one_off.get(agency, ())
        last = bisect.bisect_left(one_offs, until, key=lambda w: w.starts_at)
        found += [w for w in one_offs[:last] if w.ends_at > since]
        return sorted(found, key=lambda w: (w.starts_at, w.ends_at))

    def _stretches(self, agency: str, since: float, until: float) -> list[MaintenanceWindow]:
        """Overlapping or touching windows merged into one, earliest first. A stretch of one
        window is that window; a longer one carries the origin and note of the window that
        ends it (the one that says when the agency is back)."""
        stretches: list[MaintenanceWindow] = []
        for window in self._windows(agency, since, until):
            if stretches and window.starts_at <= stretches[-1].ends_at:
                last = stretches[-1]
                if window.ends_at > last.ends_at:
                    stretches[-1] = MaintenanceWindow(
                        agency, last.starts_at, window.ends_at, window.origin, window.note
                    )
            else:
                stretches.append(window)
        return stretches


def _seconds(value: Moment, field: str) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise InvalidInput(field, "a time needs its offset, e.g. 2024-10-07T02:00:00+03:30")
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(field, "not a time")
    return float(value)


def _clean_note(note: str) -> str:
    if not isinstance(note, str):
        raise InvalidInput("note", "the note must be text")
    if any(unicodedata.category(c) == "Cc" for c in note):
        raise InvalidInput("note", "the note must be one line of text")
    note = note.strip()
    if len(note) > _NOTE_MAX:
        raise InvalidInput("note", f"the note may be at most {_NOTE_MAX} characters")
    return note


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()
