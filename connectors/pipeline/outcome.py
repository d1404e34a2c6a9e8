"""What one attempt to call an agency came to, and what each result means for the pipeline.

    outcome        breaker      agency_up   (the value is the `outcome` metric label)
    OK             success      1
    NOT_FOUND      success      1           the agency answered; the record does not exist
    TIMEOUT        failure      0
    UNAVAILABLE    failure      0
    RATE_LIMITED   failure      –
    BAD_RESPONSE   failure      0           not in the documented format, mapping included
    MAINTENANCE    no verdict   0           planned: 503 with Retry-After, or not called at all
                                            because the agency is in a maintenance window
    ERROR          failure      –           a fault of ours
    REJECTED       no verdict   –           the bulkhead had no slot: the agency was not asked
    DEADLINE       no verdict   –           cut short by the caller's deadline
    CANCELLED      no verdict   –
    CIRCUIT_OPEN   (not admitted)

Dashboards and alert rules (deploy/prometheus) select on these label values: keep them.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import (
    AgencyError,
    AgencyInMaintenance,
    AgencyNotFound,
    AgencyRateLimited,
    AgencyRejected,
    AgencyTimeout,
    AgencyUnavailable,
    CircuitOpen,
)

__all__ = ["Outcome"]


class Outcome(StrEnum):
    """The result of one attempt; its value is the `outcome` label of `agency_requests_total`."""

    OK = "ok"
    NOT_FOUND = "not_found"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    RATE_LIMITED = "rate_limited"
    BAD_RESPONSE = "bad_response"
    MAINTENANCE = "maintenance"
    REJECTED = "rejected"
    CIRCUIT_OPEN = "circuit_open"
    DEADLINE = "deadline"
    CANCELLED = "cancelled"
    ERROR = "error"

    @classmethod
    def of(cls, exc: AgencyError) -> Outcome:
        """The outcome an error of the tree stands for: its nearest class in the table."""
        for klass in type(exc).__mro__:
            outcome = _BY_ERROR.get(klass)
            if outcome is not None:
                return outcome
        return cls.BAD_RESPONSE

    @property
    def verdict(self) -> bool | None:
        """For the breaker: True a success, False a failure, None nothing said of the agency."""
        return _VERDICTS.get(self)

    @property
    def up(self) -> bool | None:
        """For `agency_up`: whether the agency answered in its format (None: says nothing)."""
        return _UP.get(self)


_VERDICTS: dict[Outcome, bool] = {
    Outcome.OK: True,
    Outcome.NOT_FOUND: True,
    Outcome.TIMEOUT: False,
    Outcome.UNAVAILABLE: False,
    Outcome.RATE_LIMITED: False,
    Outcome.BAD_RESPONSE: False,
    Outcome.ERROR: False,
}
_UP: dict[Outcome, bool] = {
    Outcome.OK: True,
    Outcome.NOT_FOUND: True,
    Outcome.TIMEOUT: False,
    Outcome.UNAVAILABLE: False,
    Outcome.BAD_RESPONSE: False,
    Outcome.MAINTENANCE: False,
}
_BY_ERROR: dict[type, Outcome] = {
    CircuitOpen: Outcome.CIRCUIT_OPEN,
    AgencyInMaintenance: Outcome.MAINTENANCE,
    AgencyRejected: Outcome.REJECTED,
    AgencyRateLimited: Outcome.RATE_LIMITED,
    AgencyTimeout: Outcome.TIMEOUT,
    AgencyUnavailable: Outcome.UNAVAILABLE,
    AgencyNotFound: Outcome.NOT_FOUND,
}
