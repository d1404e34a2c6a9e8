"""What one attempt to call an agency came to, and what each result means for the pipeline.

    outcome        breaker      health sample (its failure kind)
    OK             success      ok
    NOT_FOUND      success      ok            the agency answered; the record does not exist
    TIMEOUT        failure      timeout
    UNAVAILABLE    failure      refused (no answer) or 5xx (an answer)
    RATE_LIMITED   failure      429
    BAD_RESPONSE   failure      malformed     not in the documented format, mapping included
    MAINTENANCE    no verdict   maintenance   planned: 503 with Retry-After, or not called
                                              at all because the agency is in a window
    ERROR          failure      –             a fault of ours
    REJECTED       no verdict   –             the bulkhead had no slot: not asked
    DEADLINE       no verdict   –             cut short by the caller's deadline
    CANCELLED      no verdict   –
    CIRCUIT_OPEN   (not admitted)

The value is the `outcome` label of `agency_requests_total`; the samples go to the agency
health book (`observability.agency_health`), whose fleet-wide state `panjereh_agency_up`
follows. Dashboards and alert rules (deploy/prometheus) select on these label values: keep
them.
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
from observability.agency_health.model import Failure

__all__ = ["Outcome", "failure_of"]


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


def failure_of(outcome: Outcome, status: int | None) -> Failure | None:
    """What failed, as an incident counts it; None for an outcome that is no failure of the
    agency. `status` is the HTTP status the agency answered with, None when there was no answer
    at all, so that a refused (reset, DNS) connection and a 5xx, both UNAVAILABLE, are told
    apart."""
    if outcome is Outcome.UNAVAILABLE:
        return Failure.REFUSED if status is None else Failure.SERVER_ERROR
    return _FAILURES.get(outcome)


_FAILURES: dict[Outcome, Failure] = {
    Outcome.TIMEOUT: Failure.TIMEOUT,
    Outcome.RATE_LIMITED: Failure.RATE_LIMITED,
    Outcome.BAD_RESPONSE: Failure.MALFORMED,
}
_VERDICTS: dict[Outcome, bool] = {
    Outcome.OK: True,
    Outcome.NOT_FOUND: True,
    Outcome.TIMEOUT: False,
    Outcome.UNAVAILABLE: False,
    Outcome.RATE_LIMITED: False,
    Outcome.BAD_RESPONSE: False,
    Outcome.ERROR: False,
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
