"""The vocabulary of agency health, shared by its producers and its readers.

    producers                              HealthBook                     readers
    real calls (pipeline._settle) ──Sample──▶ per-minute counters  ──▶ ops API (schema/ops.py)
    probes (observability.probes) ──Sample──▶ state + incidents    ──▶ /status page
    maintenance calendar ──MaintenanceSource─▶ (MAINTENANCE)       ──▶ metrics, agencyStateChanged

With Redis every instance writes its samples to shared counters and reads one shared state, so
the fleet has one `state` per agency and one incident list; on the embedded default the book
lives in memory. Times are unix seconds (instances compare them); nothing here holds a
citizen's identity.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

__all__ = [
    "AgencySnapshot",
    "AgencyState",
    "Availability",
    "AvailabilityBar",
    "Failure",
    "HealthBook",
    "Incident",
    "MaintenanceSource",
    "MaintenanceWindow",
    "Sample",
    "StateChange",
    "Window",
]


class AgencyState(StrEnum):
    """What ops and citizens are told about an agency."""

    UP = "UP"
    DEGRADED = "DEGRADED"  # answering, but too many calls or probes fail
    DOWN = "DOWN"
    MAINTENANCE = "MAINTENANCE"  # planned: announced window or 503 with Retry-After

    @property
    def up(self) -> bool:
        """For `panjereh_agency_up`: answering at all (UP or DEGRADED)."""
        return self in (AgencyState.UP, AgencyState.DEGRADED)


class Failure(StrEnum):
    """What failed, as an incident counts it."""

    REFUSED = "refused"  # no connection: refused, reset, DNS
    TIMEOUT = "timeout"
    SERVER_ERROR = "5xx"
    MALFORMED = "malformed"  # an answer not in the agency's documented format
    RATE_LIMITED = "429"


class Window(StrEnum):
    """Availability windows."""

    FIVE_MINUTES = "5m"
    HOUR = "1h"
    DAY = "24h"
    WEEK = "7d"

    @property
    def seconds(self) -> int:
        return _WINDOW_SECONDS[self]


_WINDOW_SECONDS = {"5m": 300, "1h": 3600, "24h": 86400, "7d": 604800}


@dataclass(frozen=True, slots=True)
class Sample:
    """One verdict on an agency: a real call's attempt or a probe."""

    agency: str
    at: float
    ok: bool
    seconds: float
    failure: Failure | None = None  # set when not ok (and not maintenance)
    maintenance: bool = False  # a 503 with Retry-After: planned, not a failure
    probe: bool = False
    back_at: float | None = None  # in maintenance: when the agency said it is back (Retry-After)


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A planned window: from the agency's nightly calendar, or set by ops."""

    agency: str
    starts_at: float
    ends_at: float
    origin: Literal["calendar", "ops", "agency"] = "calendar"
    """`agency`: not announced to us, but the agency answered 503 with Retry-After."""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Incident:
    """One stretch of DOWN or DEGRADED (maintenance is not an incident)."""

    id: str
    agency: str
    started_at: float
    ended_at: float | None  # None while it lasts
    worst: AgencyState  # DOWN or DEGRADED
    failures: Mapping[Failure, int] = field(default_factory=dict)

    def duration(self, now: float) -> float:
        return (self.ended_at if self.ended_at is not None else now) - self.started_at


@dataclass(frozen=True, slots=True)
class Availability:
    """Share of time an agency answered over a window; None where nothing was measured.

    Each minute with samples weighs the same (its share of good samples), so a busy minute
    does not outweigh a quiet one judged by probes alone."""

    window: Window
    excluding_maintenance: float | None  # planned maintenance left out of the count
    including_maintenance: float | None  # planned maintenance counted as unavailable


@dataclass(frozen=True, slots=True)
class AvailabilityBar:
    """One bar of a status page's history: an hour of the 24 h bar, a day of the 7 d bar."""

    starts_at: float
    seconds: int
    ratio: float | None  # excluding maintenance; None: no samples
    maintenance: bool  # some planned maintenance fell in it


@dataclass(frozen=True, slots=True)
class AgencySnapshot:
    """An agency now, as the fleet shares it."""

    agency: str
    state: AgencyState
    since: float  # when it entered `state`
    latency_p95: float | None  # seconds, over the last 5 minutes of samples
    maintenance: MaintenanceWindow | None  # the current window, if any
    next_maintenance: MaintenanceWindow | None = None


@dataclass(frozen=True, slots=True)
class StateChange:
    agency: str
    old: AgencyState
    new: AgencyState
    at: float


class MaintenanceSource(Protocol):
    """Planned windows: nightly calendars from config and one-off windows set by ops."""

    async def window_at(self, agency: str, at: float) -> MaintenanceWindow | None: ...

    async def upcoming(self, agency: str, after: float, within: float) -> list[MaintenanceWindow]:
        """Windows starting in [after, after + within), earliest first."""
        ...


class HealthBook(Protocol):
    """Where samples go and what ops, the status page and metrics read."""

    def record(self, sample: Sample) -> None:
        """Cheap and synchronous (called on every attempt): buffered, written in batches."""
        ...

    async def snapshot(self, agency: str) -> AgencySnapshot: ...

    async def snapshots(self) -> list[AgencySnapshot]: ...

    async def availability(self, agency: str, window: Window) -> Availability: ...

    async def bars(self, agency: str, window: Window) -> list[AvailabilityBar]:
        """24 hourly bars for DAY, 7 daily bars for WEEK, oldest first."""
        ...

    async def incidents(self, agency: str | None, first: int) -> list[Incident]:
        """Newest first; all agencies when `agency` is None."""
        ...

    def changes(self) -> AsyncIterator[StateChange]:
        """State changes as this instance learns them (its own judgement or the shared one)."""
        ...
