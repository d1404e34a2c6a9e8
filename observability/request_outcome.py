"""The outcome class of one GraphQL request: `panjereh_graphql_requests_total{outcome}`.

    ok            answered; a NOT_FOUND is an answer (the citizen holds no such record)
    partial       some fields failed for an agency (in maintenance included) or a fault of
                  ours, others answered
    maintenance   nothing answered, and the only failures were agencies in maintenance
                  (AGENCY_MAINTENANCE: a planned window, or the agency's own 503 with
                  Retry-After); nothing of the gateway failed
    client_error  refused for the request or its caller: token, input, query, limits, 429,
                  a level too low, a malformed request; nothing of the gateway failed
    error         nothing answered, for an agency or a fault of ours

Refusals before GraphQL (401, 4xx, 429) are counted as `client_error` by the view; the rest is
judged here from the shaped errors' `extensions.code`, so the gateway's failure ratio
(`outcome="error"`) is not moved by clients sending bad tokens or bad queries, nor by an
agency's nightly window (`maintenance`, left out of the ratio like `client_error`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from graphql import GraphQLError

__all__ = ["RequestOutcome", "classify"]


class RequestOutcome(StrEnum):
    OK = "ok"
    PARTIAL = "partial"
    MAINTENANCE = "maintenance"
    CLIENT_ERROR = "client_error"
    ERROR = "error"


_ABSENCE = frozenset({"NOT_FOUND"})
_MAINTENANCE = frozenset({"AGENCY_MAINTENANCE"})
_CLIENT = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "INVALID_INPUT",
        "QUERY_TOO_COMPLEX",
        "BAD_REQUEST",
        "PERSISTED_QUERY_NOT_FOUND",
        "PERSISTED_QUERY_NOT_SUPPORTED",
        "PERSISTED_QUERY_NOT_IN_LIST",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
    }
)


def classify(
    errors: Iterable[GraphQLError] | None, data: Mapping[str, Any] | None
) -> RequestOutcome:
    """The class of a result from its (shaped) errors and whether any root field answered."""
    failed = maintenance = client = False
    for error in errors or ():
        extensions = error.extensions or {}
        code = extensions.get("code")
        if code in _ABSENCE:
            continue
        if code in _MAINTENANCE:
            maintenance = True
        elif code in _CLIENT or (code == "RATE_LIMITED" and "agency" not in extensions):
            client = True  # the caller's own budget, not an agency's 429
        else:
            failed = True  # an agency's failure, or INTERNAL / an error never shaped
    if failed or maintenance:
        if _answered(data):
            return RequestOutcome.PARTIAL
        return RequestOutcome.ERROR if failed else RequestOutcome.MAINTENANCE
    return RequestOutcome.CLIENT_ERROR if client else RequestOutcome.OK


def _answered(value: object) -> bool:
    """Whether a value holds anything: `{"me": {"profile": null}}` holds nothing, a list (even
    empty) is an answer."""
    if isinstance(value, Mapping):
        return any(_answered(each) for each in value.values())
    return value is not None
