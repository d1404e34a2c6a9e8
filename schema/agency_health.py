"""GraphQL types of agency health (ops scope): state, availability, incidents, maintenance.

Each type is built from its value in `observability.agency_health.model` (the HealthBook's
vocabulary) by `of(...)`; times there are unix seconds, here `DateTime` (ISO 8601, UTC) as
everywhere else in the schema.
"""

from __future__ import annotations

import datetime as dt
import time
from enum import StrEnum
from typing import Self

import strawberry

from observability.agency_health import model

__all__ = [
    "AgencyState",
    "AgencyStateChange",
    "Availability",
    "AvailabilityWindow",
    "FailureCount",
    "Incident",
    "MaintenanceWindow",
    "instant",
]

AgencyState = strawberry.enum(
    model.AgencyState,
    name="AgencyState",
    description="What ops and citizens are told about an agency: UP; DEGRADED, answering but "
    "too many calls or probes fail; DOWN; MAINTENANCE, planned (announced, set by ops, or a "
    "503 with Retry-After).",
)
AvailabilityWindow = strawberry.enum(
    model.Window,
    name="AvailabilityWindow",
    description="How far back availability is measured: FIVE_MINUTES, HOUR, DAY (24 h), "
    "WEEK (7 days).",
)
FailureKind = strawberry.enum(
    model.Failure,
    name="FailureKind",
    description="What failed: REFUSED (no connection), TIMEOUT, SERVER_ERROR (5xx), MALFORMED "
    "(an answer not in the agency's format), RATE_LIMITED (429).",
)


@strawberry.enum(description="Where a maintenance window comes from.")
class MaintenanceOrigin(StrEnum):
    CALENDAR = "calendar"  # the agency's announced calendar (configuration)
    OPS = "ops"  # set through the ops API
    AGENCY = "agency"  # not announced: the agency answered 503 with Retry-After


def instant(unix_s: float) -> dt.datetime:
    """A HealthBook time (unix seconds) as the schema's `DateTime` (UTC)."""
    return dt.datetime.fromtimestamp(unix_s, dt.UTC)


@strawberry.type(description="Share of time an agency answered over a window (0 to 1).")
class Availability:
    window: AvailabilityWindow
    excluding_maintenance: float | None = strawberry.field(
        description="Planned maintenance left out of the count; null when nothing was measured."
    )
    including_maintenance: float | None = strawberry.field(
        description="Planned maintenance counted as unavailable; null when nothing was measured."
    )

    @classmethod
    def of(cls, availability: model.Availability) -> Self:
        return cls(
            window=availability.window,
            excluding_maintenance=availability.excluding_maintenance,
            including_maintenance=availability.including_maintenance,
        )


@strawberry.type(description="How many probes and calls of an incident failed this way.")
class FailureCount:
    kind: FailureKind
    count: int


@strawberry.type(description="One stretch of DOWN or DEGRADED (maintenance is not an incident).")
class Incident:
    id: str
    agency: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = strawberry.field(description="Null while it lasts.")
    duration_seconds: float = strawberry.field(description="Until now while it lasts.")
    worst: AgencyState = strawberry.field(description="DOWN if it was ever DOWN, else DEGRADED.")
    failures: list[FailureCount]

    @classmethod
    def of(cls, incident: model.Incident, now: float | None = None) -> Self:
        now = time.time() if now is None else now
        failures = incident.failures
        return cls(
            id=incident.id,
            agency=incident.agency,
            started_at=instant(incident.started_at),
            ended_at=None if incident.ended_at is None else instant(incident.ended_at),
            duration_seconds=round(incident.duration(now), 3),
            worst=incident.worst,
            failures=[
                FailureCount(kind=kind, count=failures[kind])
                for kind in model.Failure
                if failures.get(kind)
            ],
        )


@strawberry.type(description="A planned window during which the agency is MAINTENANCE.")
class MaintenanceWindow:
    starts_at: dt.datetime
    ends_at: dt.datetime
    origin: MaintenanceOrigin
    note: str | None

    @classmethod
    def of(cls, window: model.MaintenanceWindow | None) -> Self | None:
        if window is None:
            return None
        return cls(
            starts_at=instant(window.starts_at),
            ends_at=instant(window.ends_at),
            origin=MaintenanceOrigin(window.origin),
            note=window.note or None,
        )


@strawberry.type(description="An agency's state changed, as the fleet judged it.")
class AgencyStateChange:
    agency: str
    previous: AgencyState
    state: AgencyState
    at: dt.datetime

    @classmethod
    def of(cls, change: model.StateChange) -> Self:
        return cls(
            agency=change.agency, previous=change.old, state=change.new, at=instant(change.at)
        )
