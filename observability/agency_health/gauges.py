"""The health book's Prometheus gauges, set on every instance each tick from the shared state.

Every instance exports the same values for an agency (the fleet's state and counts, not its own
calls), so rules aggregate `by (agency)` and page once for the fleet. Label values come from
the enums (`AgencyState`, `Window`) and the agency ids: bounded.
"""

from __future__ import annotations

from collections.abc import Iterable

from observability.agency_health.model import AgencyState, Availability
from observability.agency_health.tally import Tally
from observability.metrics import Metrics

__all__ = ["HealthGauges"]

_UNKNOWN = float("nan")


class HealthGauges:
    """Sets `panjereh_agency_{state,up,maintenance,announced_maintenance,failure_ratio,
    latency_p95_seconds,availability_ratio}` for one agency at a time. `maintenance` is 1 for a
    planned window only, so Alertmanager's inhibition (every alert of an agency in planned
    maintenance) cannot be held open by an agency that answers 503 with Retry-After forever."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def show_state(self, agency: str, state: AgencyState, origin: str | None = None) -> None:
        """`origin` is a MAINTENANCE's (calendar, ops: planned; agency: announced by it)."""
        m = self._metrics
        for each in AgencyState:
            m.agency_state.labels(agency, each.value).set(int(each is state))
        m.agency_up.labels(agency).set(int(state.up))
        maintenance = state is AgencyState.MAINTENANCE
        announced = maintenance and origin == "agency"
        m.agency_maintenance.labels(agency).set(int(maintenance and not announced))
        m.agency_announced_maintenance.labels(agency).set(int(announced))

    def show_counts(self, agency: str, recent: Tally, availability: Iterable[Availability]) -> None:
        m = self._metrics
        m.agency_failure_ratio.labels(agency).set(_known(recent.failure_ratio()))
        m.agency_latency_p95.labels(agency).set(_known(recent.quantile(0.95)))
        for each in availability:
            window = each.window.value
            ratio = m.agency_availability_ratio
            ratio.labels(agency, window, "excluded").set(_known(each.excluding_maintenance))
            ratio.labels(agency, window, "included").set(_known(each.including_maintenance))


def _known(value: float | None) -> float:
    return _UNKNOWN if value is None else value
