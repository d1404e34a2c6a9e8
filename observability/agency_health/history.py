"""What the stored tallies say over time: the last 5 minutes, availability windows and bars.

    window   read from                                       each minute with samples weighs
    5m, 1h   minute tallies                                  the same (its good share)
    24h, 7d  hour shares, the last two hours from minutes
    bars     24 hours / 7 UTC days, the same way

Minutes roll up into their hour once they are settled (`SETTLE_S` after their end, when every
instance has flushed them), exactly once for the fleet (`HealthStore.roll_up`), by whichever
instance gets there first; the current and the previous hour are read minute by minute, so an
hour read from its shares is always complete.

Settled minutes and complete hours never change, so they are kept here after the first read
(unless the store answered from memory while Redis was down): a tick (every instance, every
agency) reads only the current minute or two from the store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from observability.agency_health.model import Availability, AvailabilityBar, Window
from observability.agency_health.store import MINUTE_KEEP_S, HealthStore
from observability.agency_health.tally import Shares, Tally

__all__ = ["SETTLE_S", "History"]

SETTLE_S = 20.0
"""Seconds after a minute's end when every instance has flushed it (they flush every second
or so): then it is rolled up into its hour and kept in memory as final."""
RECENT_S = 300.0
_DAY_S = 86400


class History:
    """Reads of one store's tallies, with the settled part kept in memory."""

    def __init__(self, store: HealthStore) -> None:
        self.store = store
        self._minutes: dict[tuple[str, int], Tally] = {}
        self._hours: dict[tuple[str, int], Shares] = {}
        self._rolled: dict[str, int] = {}  # agency → the next minute to roll up
        self._settled_until = -1  # the newest settled minute at the last roll-up

    # -- reads ---------------------------------------------------------------------------------

    async def recent(self, agency: str, now: float) -> Tally:
        """Every sample of the last 5 minutes (the minutes they overlap)."""
        first, last = _minute(now - RECENT_S), _minute(now)
        return Tally.total(
            (await self._minute_tallies(agency, range(first, last + 1), now)).values()
        )

    async def availability(self, agency: str, window: Window, now: float) -> Availability:
        if window.seconds <= 3600:
            first, last = _minute(now - window.seconds), _minute(now)
            tallies = await self._minute_tallies(agency, range(first, last + 1), now)
            shares = Shares.total(t.shares() for t in tallies.values())
        else:
            first, last = _hour(now - window.seconds), _hour(now)
            shares = Shares.total(
                (await self._hour_shares(agency, range(first, last + 1), now)).values()
            )
        return Availability(window, shares.excluding_maintenance, shares.including_maintenance)

    async def bars(self, agency: str, window: Window, now: float) -> list[AvailabilityBar]:
        """24 hourly bars for DAY, 7 daily (UTC days) for WEEK, oldest first."""
        current = _hour(now)
        if window is Window.DAY:
            hours = range(current - 23, current + 1)
            by_hour = await self._hour_shares(agency, hours, now)
            return [_bar(h * 3600, 3600, by_hour.get(h)) for h in hours]
        if window is Window.WEEK:
            today = int(now // _DAY_S)
            days = range(today - 6, today + 1)
            hours = range(days[0] * 24, current + 1)
            by_hour = await self._hour_shares(agency, hours, now)
            return [
                _bar(
                    day * _DAY_S,
                    _DAY_S,
                    Shares.total(
                        by_hour[h] for h in range(day * 24, day * 24 + 24) if h in by_hour
                    ),
                )
                for day in days
            ]
        raise ValueError(f"bars are drawn for {Window.DAY} and {Window.WEEK}, not {window}")

    # -- roll-up -------------------------------------------------------------------------------

    async def roll_up(self, agencies: Iterable[str], now: float) -> None:
        """Roll every settled minute not rolled yet into its hour (once for the fleet)."""
        last = _minute(now - SETTLE_S) - 1  # the newest settled minute
        if last == self._settled_until:
            return  # nothing settled since the last call (it runs every flush)
        for agency in agencies:
            first = self._rolled.get(agency, _minute(now - MINUTE_KEEP_S) + 1)
            if first > last:
                continue
            tallies = await self._minute_tallies(agency, range(first, last + 1), now)
            shares = {m: t.shares() for m, t in tallies.items() if not t.empty}
            if shares:
                rolled = await self.store.roll_up(agency, shares)
                for hour in {m // 60 for m in rolled}:
                    self._hours.pop((agency, hour), None)  # late news of a complete hour
            self._rolled[agency] = last + 1
        self._settled_until = last
        self._forget(now)

    # -- reading through the memory of what is final --------------------------------------------

    async def _minute_tallies(
        self, agency: str, minutes: Sequence[int], now: float
    ) -> dict[int, Tally]:
        found: dict[int, Tally] = {}
        missing = []
        for m in minutes:
            kept = self._minutes.get((agency, m))
            if kept is None:
                missing.append(m)
            elif not kept.empty:
                found[m] = kept
        if missing:
            read = await self.store.minutes(agency, missing)
            final = not self._degraded()
            for m in missing:
                tally = read.get(m)
                if final and _settled(m, now):
                    self._minutes[(agency, m)] = tally if tally is not None else Tally()
                if tally is not None and not tally.empty:
                    found[m] = tally
        return found

    async def _hour_shares(
        self, agency: str, hours: Sequence[int], now: float
    ) -> dict[int, Shares]:
        """Shares by hour: complete hours from the store, the last two from their minutes."""
        current = _hour(now)
        recent = [h for h in hours if h >= current - 1]
        complete = [h for h in hours if h < current - 1]
        found: dict[int, Shares] = {}
        missing = []
        for h in complete:
            kept = self._hours.get((agency, h))
            if kept is None:
                missing.append(h)
            else:
                found[h] = kept
        if missing:
            read = await self.store.hours(agency, missing)
            final = not self._degraded()
            for h in missing:
                found[h] = read.get(h) or Shares()
                if final:
                    self._hours[(agency, h)] = found[h]
        if recent:
            minutes = range(recent[0] * 60, (recent[-1] + 1) * 60)
            tallies = await self._minute_tallies(agency, [m for m in minutes if m * 60 <= now], now)
            for h in recent:
                found[h] = Shares.total(t.shares() for m, t in tallies.items() if m // 60 == h)
        return found

    def _degraded(self) -> bool:
        """Whether the store answers from one instance's memory (Redis is down): what it says
        then is not the fleet's, and is not kept as final."""
        return bool(getattr(self.store, "degraded", False))

    def _forget(self, now: float) -> None:
        oldest_minute = _minute(now - MINUTE_KEEP_S)
        oldest_hour = _hour(now - 8 * _DAY_S) - 1
        for key in [k for k in self._minutes if k[1] < oldest_minute]:
            del self._minutes[key]
        for key in [k for k in self._hours if k[1] < oldest_hour]:
            del self._hours[key]


def _minute(at: float) -> int:
    return math.floor(at / 60)


def _hour(at: float) -> int:
    return math.floor(at / 3600)


def _settled(minute: int, now: float) -> bool:
    return (minute + 1) * 60 + SETTLE_S <= now


def _bar(starts_at: int, seconds: int, shares: Shares | None) -> AvailabilityBar:
    shares = shares or Shares()
    return AvailabilityBar(
        starts_at=float(starts_at),
        seconds=seconds,
        ratio=shares.excluding_maintenance,
        maintenance=shares.maintenance_minutes > 0,
    )
