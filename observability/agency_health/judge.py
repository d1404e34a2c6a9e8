"""The state machine: one probe tick of one agency in, its state and open incident out.

Evaluated once per probe tick per agency, by the instance holding that agency's probe lease;
pure (no clock, no store), so the table below is tested as it stands. The first rule that holds:

    MAINTENANCE  a maintenance window is active, or this tick's probe got 503 + Retry-After
    DOWN         this tick's probe failed and no real call succeeded since the previous tick
    UP           this tick and the previous one were clean (probe ok, no failed call)
    DEGRADED     failed / all samples (probes and calls) over the last 5 minutes ≥ the
                 degraded ratio (with at least `min_samples`), or the probe failed while calls
                 succeeded, or this tick had failures
    UP           otherwise

So a recovered agency goes DOWN → DEGRADED → UP within two ticks, and a 50 %-flaky agency with
traffic stays DEGRADED.

Incidents: one opens on entering DOWN or DEGRADED from UP or MAINTENANCE (or from nothing
known) and lasts through DOWN ⇄ DEGRADED; UP or MAINTENANCE closes it. `worst` is DOWN once it
was ever DOWN; `failures` counts the failed samples of its ticks by kind (the probe's and the
calls' since the previous tick).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from observability.agency_health.model import AgencyState, Failure, Incident, Sample
from observability.agency_health.store import AgencyRecord
from observability.agency_health.tally import Tally

__all__ = ["Tick", "TickVerdict", "judge", "next_record"]

_TROUBLE = (AgencyState.DOWN, AgencyState.DEGRADED)


@dataclass(frozen=True, slots=True)
class Tick:
    """What one tick knows of an agency."""

    probe: Sample
    calls: Tally  # real calls since the previous tick (every instance's)
    recent: Tally  # every sample of the last 5 minutes, this tick's probe included
    planned: bool = False  # a maintenance window (calendar or ops) is active now

    @property
    def maintenance(self) -> bool:
        return self.planned or self.probe.maintenance

    @property
    def clean(self) -> bool:
        """Probe ok and no failed call: the tick found nothing wrong."""
        return self.probe.ok and not self.probe.maintenance and self.calls.failed == 0

    def failures(self) -> dict[Failure, int]:
        """Failed samples of this tick by kind: the probe's and the calls'."""
        counts = dict(self.calls.failures)
        probe = self.probe
        if not probe.ok and not probe.maintenance and probe.failure is not None:
            counts[probe.failure] = counts.get(probe.failure, 0) + 1
        return counts


@dataclass(frozen=True, slots=True)
class TickVerdict:
    state: AgencyState
    clean: bool


def judge(
    tick: Tick, previous_clean: bool, *, degraded_ratio: float, min_samples: int
) -> TickVerdict:
    """The agency's state after `tick` (the rules of the module docstring, in order)."""
    clean = tick.clean
    if tick.maintenance:
        return TickVerdict(AgencyState.MAINTENANCE, clean)
    probe_failed = not tick.probe.ok
    if probe_failed and tick.calls.ok == 0:
        return TickVerdict(AgencyState.DOWN, clean)
    if clean and previous_clean:
        return TickVerdict(AgencyState.UP, clean)
    ratio = tick.recent.failure_ratio(min_samples)
    if (ratio is not None and ratio >= degraded_ratio) or probe_failed or not clean:
        return TickVerdict(AgencyState.DEGRADED, clean)
    return TickVerdict(AgencyState.UP, clean)


def next_record(
    previous: AgencyRecord | None,
    agency: str,
    verdict: TickVerdict,
    tick: Tick,
    now: float,
    *,
    back_at: float | None = None,
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
    same = previous is not None and previous.state is state
    record = AgencyRecord(
        agency=agency,
        state=state,
        since=previous.since if same and previous is not None else now,
        at=now,
        clean=verdict.clean,
        incident=incident,
        back_at=back_at if state is AgencyState.MAINTENANCE else None,
    )
    return record, closed
