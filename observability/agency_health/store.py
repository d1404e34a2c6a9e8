"""Where the health book keeps what the fleet shares: one interface, a memory and a Redis store.

    per agency                       kept                 written by
    minute tallies   (minute index)  ~2 h                 every instance's flush (increments)
    hour shares      (hour index)    ~8 days              one instance per minute (`roll_up`)
    tick tally       (calls since    until taken          every flush; taken by the evaluator
                      the last tick)
    record           (state, since,  30 days, rewritten   the instance holding the agency's
                      open incident)  every tick           probe lease, over the record it
                                                           judged from (never a newer one)
    closed incidents (newest first)  `max_incidents`      the same instance, on closing one

Minutes and hours are indices of unix time (`int(at // 60)`, `int(at // 3600)`). A store does
no arithmetic on the fleet's behalf beyond adding counts; the book (`book.py`, `history.py`)
decides what they mean. Stores raise on failure; `FallbackHealthStore` is the one that does not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Literal, Protocol

from observability.agency_health.model import AgencyState, Failure, Incident, StateChange
from observability.agency_health.tally import Shares, Tally

__all__ = [
    "HOUR_KEEP_S",
    "MINUTE_KEEP_S",
    "RECORD_KEEP_S",
    "ROLL_MARK_KEEP_S",
    "TICK_KEEP_S",
    "UNCHECKED",
    "AgencyRecord",
    "HealthStore",
    "MaintenanceOrigin",
    "Unchecked",
    "decode_incident",
    "encode_incident",
    "may_replace",
]

MINUTE_KEEP_S = 2 * 3600 + 10 * 60
"""Minute tallies outlive the previous hour (which availability reads minute by minute)."""
HOUR_KEEP_S = 8 * 86400 + 3600
"""Hour shares outlive the oldest day of the 7-day bars."""
ROLL_MARK_KEEP_S = 3 * 3600
"""A minute rolled into its hour is marked longer than the minute itself is kept."""
TICK_KEEP_S = 600.0
"""Calls since the last tick, when no instance evaluates the agency any more."""
RECORD_KEEP_S = 30 * 86400.0

MaintenanceOrigin = Literal["calendar", "ops", "agency"]


class Unchecked(Enum):
    UNCHECKED = "unchecked"


UNCHECKED: Final = Unchecked.UNCHECKED
"""`HealthStore.save(replacing=UNCHECKED)`: write whatever record is stored."""


@dataclass(frozen=True, slots=True)
class AgencyRecord:
    """An agency's shared state, as the last evaluation left it, with what the next one needs
    of that tick (see `judge`)."""

    agency: str
    state: AgencyState
    since: float  # when it entered `state`
    at: float  # when it was last evaluated: records are ordered by it
    answered: bool = True
    """That tick the agency answered something: a probe or call that succeeded, or a 429."""
    incident: Incident | None = None  # the open one
    probe_failed: bool = False  # that tick's probe failed (maintenance is no failure)
    origin: MaintenanceOrigin | None = None
    """In MAINTENANCE: a planned window's origin (calendar, ops), or `agency` when the agency
    said so itself (503 with Retry-After)."""
    back_at: float | None = None
    """In a maintenance the agency announced itself: when it said it would be back."""
    hold_until: float | None = None
    """A maintenance announced by real calls holds until then unless a call succeeds (calls
    are not made meanwhile, and the probe may well answer ok)."""
    outage: tuple[tuple[int, int], ...] = ()
    """(minute, samples) of the last outage (a run of ticks in which the probe failed and
    nothing answered), within the last 5 minutes: an outage is DOWN's, and once over it weighs
    as one failure in DEGRADED's ratio."""

    def to_json(self) -> bytes:
        body = {
            "agency": self.agency,
            "state": str(self.state),
            "since": self.since,
            "at": self.at,
            "answered": self.answered,
            "probe_failed": self.probe_failed,
            "incident": None if self.incident is None else _incident_dict(self.incident),
            "origin": self.origin,
            "back_at": self.back_at,
            "hold_until": self.hold_until,
            "outage": [list(pair) for pair in self.outage],
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> AgencyRecord:
        """Raises ValueError (or KeyError, TypeError) for a body that is not a record. A record
        written before a field existed reads it as the state it holds suggests."""
        body = json.loads(raw)
        state = AgencyState(body["state"])
        incident = body.get("incident")
        back_at = _float_or_none(body.get("back_at"))
        origin = body.get("origin")
        if "origin" not in body and state is AgencyState.MAINTENANCE:
            origin = "agency" if back_at is not None else "calendar"
        if origin not in (None, "calendar", "ops", "agency"):
            raise ValueError(f"unknown maintenance origin {origin!r}")
        return cls(
            agency=str(body["agency"]),
            state=state,
            since=float(body["since"]),
            at=float(body["at"]),
            answered=bool(body.get("answered", state is not AgencyState.DOWN)),
            probe_failed=bool(body.get("probe_failed", state is AgencyState.DOWN)),
            incident=None if incident is None else _incident_of(incident),
            origin=origin,
            back_at=back_at,
            hold_until=_float_or_none(body.get("hold_until")),
            outage=tuple((int(m), int(n)) for m, n in body.get("outage") or ()),
        )

    def changed_from(self, old: AgencyState) -> StateChange:
        return StateChange(self.agency, old, self.state, self.since)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def may_replace(stored: AgencyRecord | None, replacing: float | Unchecked | None) -> bool:
    """Whether a record judged from the one stored at `replacing` may overwrite `stored`: not
    when `stored` is newer (see `HealthStore.save`)."""
    if replacing is UNCHECKED or stored is None:
        return True
    return replacing is not None and stored.at <= replacing


def encode_incident(incident: Incident) -> bytes:
    return json.dumps(_incident_dict(incident), separators=(",", ":")).encode()


def decode_incident(raw: bytes | str) -> Incident:
    return _incident_of(json.loads(raw))


def _incident_dict(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "agency": incident.agency,
        "started_at": incident.started_at,
        "ended_at": incident.ended_at,
        "worst": str(incident.worst),
        "failures": {str(kind): n for kind, n in incident.failures.items()},
    }


def _incident_of(body: Mapping[str, Any]) -> Incident:
    ended = body.get("ended_at")
    return Incident(
        id=str(body["id"]),
        agency=str(body["agency"]),
        started_at=float(body["started_at"]),
        ended_at=None if ended is None else float(ended),
        worst=AgencyState(body["worst"]),
        failures={Failure(kind): int(n) for kind, n in (body.get("failures") or {}).items()},
    )


class HealthStore(Protocol):
    """The shared side of the health book (see the module docstring for what lives where)."""

    name: str

    async def add(
        self, minutes: Mapping[tuple[str, int], Tally], ticks: Mapping[str, Tally]
    ) -> None:
        """Add tallies into (agency, minute) and into each agency's calls since the last tick."""
        ...

    async def minutes(self, agency: str, indices: Sequence[int]) -> dict[int, Tally]:
        """The stored tallies of those minutes; a minute without samples is left out."""
        ...

    async def hours(self, agency: str, indices: Sequence[int]) -> dict[int, Shares]:
        """The rolled-up shares of those hours; an hour without any is left out."""
        ...

    async def roll_up(self, agency: str, minutes: Mapping[int, Shares]) -> set[int]:
        """Add each minute's shares into its hour, once for the whole fleet: returns the minutes
        this call rolled (a minute some instance rolled before is skipped)."""
        ...

    async def take_tick(self, agency: str) -> Tally:
        """The calls added since the previous `take_tick` of the agency, and start again."""
        ...

    async def records(self, agencies: Sequence[str]) -> dict[str, AgencyRecord]:
        """The agencies' records; an agency never evaluated is left out."""
        ...

    async def save(
        self,
        record: AgencyRecord,
        closed: Incident | None = None,
        *,
        replacing: float | Unchecked | None = UNCHECKED,
    ) -> bool:
        """Write the agency's record and, in the same step, the incident it closed (if any).

        `replacing` is the `at` of the record this one was judged from (None: there was none):
        nothing is written if the stored record is newer (another instance judged meanwhile),
        and False says so. `UNCHECKED` writes whatever is stored."""
        ...

    async def closed_incidents(self, agency: str, first: int) -> list[Incident]:
        """The agency's closed incidents, newest first, at most `first`."""
        ...

    async def close(self) -> None: ...
