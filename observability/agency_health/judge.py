"""The state machine: one probe tick of one agency in, its state and open incident out.

Evaluated once per probe tick per agency, by the instance holding that agency's probe lease;
pure (no clock, no store), so the table below is tested as it stands. The first rule that holds:

    MAINTENANCE  a planned window is active (origin calendar or ops); or the agency says so
                 itself (origin agency): this tick's probe got 503 + Retry-After, or most of
                 this tick's calls did (then it holds until the Retry-After named, unless a
                 call succeeds: calls are not made meanwhile, and the probe may answer ok)
    DOWN         the probe failed and the agency answered nothing (no probe or call succeeded,
                 no 429) in this tick and the previous one
    DEGRADED     failed / all samples ≥ the degraded ratio, over this tick (probe and calls,
                 with at least `min_samples`) or over the last 5 minutes (at least
                 `min_samples`; the agency's last outage, its latest run of ticks in which
                 nothing answered, counts as one failure: an outage is DOWN's, and once over
                 it does not keep the agency DEGRADED, while outages that recur do); or the
                 probe failed in this tick and the previous one while the agency answered
                 otherwise; or the previous tick was DOWN (the first tick back)
    UP           otherwise

"Answered" counts a 429 (the agency is there, limiting us) but not a maintenance answer, so an
agency still failing when its maintenance ends is DOWN at once. So: a hard outage is DOWN by
its second tick; a recovered agency goes DOWN → DEGRADED → UP within two ticks; a 50 %-flaky
agency is DEGRADED (DOWN only on two failed ticks in a row, which with traffic is rare); a busy
agency whose calls fail now and then stays UP (a failed call or probe is one sample among
many); a probe answered 429 is never DOWN.

Incidents: one opens on entering DOWN or DEGRADED from UP or MAINTENANCE (or from nothing
known) and lasts through DOWN ⇄ DEGRADED; UP or MAINTENANCE closes it. `worst` is DOWN once it
was ever DOWN; `failures` counts the failed samples of its ticks by kind (the probe's and the
calls' since the previous tick).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from observability.agency_health.history import RECENT_S
from observability.agency_health.model import (
    AgencyState,
    Failure,
    Incident,
    MaintenanceWindow,
    Sample,
)
from observability.agency_health.store import AgencyRecord, MaintenanceOrigin
from observability.agency_health.tally import Tally

__all__ = ["Tick", "TickVerdict", "entered_window", "judge", "next_record"]

_TROUBLE = (AgencyState.DOWN, AgencyState.DEGRADED)


@dataclass(frozen=True, slots=True)
class Tick:
    """What one tick knows of an agency."""

    probe: Sample  # as the agency answered it (a planned window does not change it)
    calls: Tally  # real calls since the previous tick (every instance's)
    recent: Tally  # every sample of the last 5 minutes, this tick's probe included
    window: MaintenanceWindow | None = None  # the planned window active now
    retry_after: float | None = None  # the probe's Retry-After, if it announced maintenance

    @property
    def probe_failed(self) -> bool:
        return not self.probe.ok and not self.probe.maintenance

    @property
    def answered(self) -> bool:
        """The agency answered something: a probe or call succeeded, or it said 429."""
        probe = self.probe
        return probe.ok or probe.failure is Failure.RATE_LIMITED or self.calls.answered > 0

    def own(self) -> Tally:
        """This tick's samples: the calls and the probe."""
        tally = Tally.total([self.calls])
        tally.add(self.probe)
        return tally

    def failures(self) -> dict[Failure, int]:
        """Failed samples of this tick by kind: the probe's and the calls'."""
        counts = dict(self.calls.failures)
        if self.probe_failed and self.probe.failure is not None:
            counts[self.probe.failure] = counts.get(self.probe.failure, 0) + 1
        return counts


@dataclass(frozen=True, slots=True)
class TickVerdict:
    state: AgencyState
    answered: bool
    probe_failed: bool
    origin: MaintenanceOrigin | None = None  # in MAINTENANCE: whose it is
    back_at: float | None = None  # in the agency's own maintenance: when it said it is back
    hold_until: float | None = None  # ... announced by calls: held until then


def judge(
    tick: Tick,
    previous: AgencyRecord | None,
    now: float,
    *,
    degraded_ratio: float,
    min_samples: int,
) -> TickVerdict:
    """The agency's state after `tick` (the rules of the module docstring, in order)."""
    verdicts = _Verdicts(tick)
    maintenance = _maintenance(tick, previous, now, verdicts)
    if maintenance is not None:
        return maintenance
    return verdicts.of(_health(tick, previous, now, degraded_ratio, min_samples))


def _maintenance(
    tick: Tick, previous: AgencyRecord | None, now: float, verdicts: _Verdicts
) -> TickVerdict | None:
    """MAINTENANCE's rule: a planned window, or the agency's own word (None: neither)."""
    if tick.window is not None:
        return verdicts.maintenance(tick.window.origin)
    if tick.probe.maintenance:
        back_at = tick.probe.back_at
        if back_at is None and tick.retry_after is not None:
            back_at = now + tick.retry_after
        return verdicts.maintenance("agency", back_at=back_at)
    calls = tick.calls
    if calls.maintenance > 0 and calls.maintenance > calls.judged:  # most calls say so
        return verdicts.maintenance("agency", back_at=calls.back_at, hold_until=calls.back_at)
    held = (
        previous is not None
        and previous.state is AgencyState.MAINTENANCE
        and previous.hold_until is not None
        and now < previous.hold_until
    )
    if held and calls.ok == 0 and previous is not None:
        return verdicts.maintenance(
            "agency", back_at=previous.back_at, hold_until=previous.hold_until
        )
    return None


def _health(
    tick: Tick,
    previous: AgencyRecord | None,
    now: float,
    degraded_ratio: float,
    min_samples: int,
) -> AgencyState:
    """DOWN, DEGRADED or UP, by the rules of the module docstring."""
    answered_before = previous is not None and previous.answered
    if tick.probe_failed and not tick.answered and not answered_before:
        return AgencyState.DOWN
    recent = _without_outage(tick.recent, previous, now)
    degraded = (
        _at_or_above(tick.own().failure_ratio(min_samples), degraded_ratio)
        or _at_or_above(recent.failure_ratio(min_samples), degraded_ratio)
        or (tick.probe_failed and previous is not None and previous.probe_failed)
        or (previous is not None and previous.state is AgencyState.DOWN)
    )
    return AgencyState.DEGRADED if degraded else AgencyState.UP


class _Verdicts:
    """Verdicts on one tick (what it found is the same whatever the state)."""

    def __init__(self, tick: Tick) -> None:
        self._answered = tick.answered
        self._probe_failed = tick.probe_failed

    def of(self, state: AgencyState) -> TickVerdict:
        return TickVerdict(state, self._answered, self._probe_failed)

    def maintenance(
        self,
        origin: MaintenanceOrigin,
        *,
        back_at: float | None = None,
        hold_until: float | None = None,
    ) -> TickVerdict:
        return TickVerdict(
            AgencyState.MAINTENANCE,
            self._answered,
            self._probe_failed,
            origin=origin,
            back_at=back_at,
            hold_until=hold_until,
        )


def _at_or_above(ratio: float | None, threshold: float) -> bool:
    return ratio is not None and ratio >= threshold


def _recent_minutes(now: float) -> range:
    """The minutes `History.recent` reads at `now`."""
    return range(math.floor((now - RECENT_S) / 60), math.floor(now / 60) + 1)


def _without_outage(recent: Tally, previous: AgencyRecord | None, now: float) -> Tally:
    """The last 5 minutes with the agency's last outage (the samples of its last run of
    silent ticks, all failures) counted as one failure."""
    if previous is None or not previous.outage:
        return recent
    minutes = _recent_minutes(now)
    down = sum(n for minute, n in previous.outage if minute in minutes)
    down = min(max(0, down - 1), recent.failed)  # the outage weighs as one failure
    return Tally(ok=recent.ok, failed=recent.failed - down, maintenance=recent.maintenance)


def next_record(
    previous: AgencyRecord | None,
    agency: str,
    verdict: TickVerdict,
    tick: Tick,
    now: float,
) -> tuple[AgencyRecord, Incident | None]:
    """The agency's record after the verdict, and the incident it closed (if one)."""
    state = verdict.state
    incident = previous.incident if previous is not None else None
    closed: Incident | None = None
    if state in _TROUBLE:
        if incident is None:
            incident = Incident(
                id=f"{agency}-{int(now * 1000):x}",
                agency=agency,
                started_at=now,
                ended_at=None,
                worst=state,
            )
        worst = AgencyState.DOWN if AgencyState.DOWN in (incident.worst, state) else state
        failures = dict(incident.failures)
        for kind, n in tick.failures().items():
            failures[kind] = failures.get(kind, 0) + n
        incident = replace(incident, worst=worst, failures=failures)
    elif incident is not None:
        closed, incident = replace(incident, ended_at=now), None
    if previous is not None and previous.state is state:
        since = previous.since
    elif state is AgencyState.MAINTENANCE and tick.window is not None:
        since = entered_window(tick.window, previous)
    else:
        since = now
    record = AgencyRecord(
        agency=agency,
        state=state,
        since=since,
        at=now,
        answered=verdict.answered,
        probe_failed=verdict.probe_failed,
        incident=incident,
        origin=verdict.origin,
        back_at=verdict.back_at,
        hold_until=verdict.hold_until,
        outage=_outage(previous, verdict, tick, now),
    )
    return record, closed


def entered_window(window: MaintenanceWindow, previous: AgencyRecord | None) -> float:
    """When an agency entered MAINTENANCE for a planned window: at its start, or at the last
    judgement before it if the window was set (or began) after that."""
    return window.starts_at if previous is None else max(window.starts_at, previous.at)


def _outage(
    previous: AgencyRecord | None, verdict: TickVerdict, tick: Tick, now: float
) -> tuple[tuple[int, int], ...]:
    """The samples of the agency's last outage, its latest run of silent ticks (the probe
    failed, nothing answered), by minute within the last 5 minutes: a silent tick after one
    that answered starts a new run, so only the latest outage weighs as one failure in
    DEGRADED's ratio, and an agency going down again and again is DEGRADED between."""
    minutes = _recent_minutes(now)
    silent = tick.probe_failed and not verdict.answered
    kept: dict[int, int] = {}
    if previous is not None and not (silent and previous.answered):
        kept = {m: n for m, n in previous.outage if m in minutes}
    if silent:
        minute = minutes[-1]
        kept[minute] = kept.get(minute, 0) + tick.own().judged
    return tuple(sorted(kept.items()))
