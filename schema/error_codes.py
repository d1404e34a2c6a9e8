"""The one table from the error tree (`domain.errors`) to GraphQL `extensions.code`.

A class's code is found by walking its MRO, so a subclass without its own entry inherits its
parent's. Anything that is not a `PanjerehError` is an internal fault and is shown to the client
only as `INTERNAL` with a fixed message.
"""

from __future__ import annotations

import math
from typing import Any

from domain import errors as e

__all__ = ["INTERNAL", "code_for", "error_extensions"]

INTERNAL = "INTERNAL"

_CODES: dict[type[e.PanjerehError], str] = {
    e.AgencyUnavailable: "AGENCY_UNAVAILABLE",
    e.AgencyTimeout: "AGENCY_TIMEOUT",
    e.CircuitOpen: "CIRCUIT_OPEN",
    e.AgencyInMaintenance: "AGENCY_MAINTENANCE",
    e.AgencyRateLimited: "RATE_LIMITED",
    e.AgencyBadResponse: "AGENCY_BAD_RESPONSE",
    e.AgencyNotFound: "NOT_FOUND",
    e.NotFound: "NOT_FOUND",
    e.InvalidInput: "INVALID_INPUT",
    e.Unauthenticated: "UNAUTHENTICATED",
    e.Forbidden: "FORBIDDEN",
    e.RateLimited: "RATE_LIMITED",
    e.QueryTooComplex: "QUERY_TOO_COMPLEX",
    e.PersistedQueryNotFound: "PERSISTED_QUERY_NOT_FOUND",
    e.PersistedQueryNotSupported: "PERSISTED_QUERY_NOT_SUPPORTED",
    e.PersistedQueryNotInList: "PERSISTED_QUERY_NOT_IN_LIST",
    e.BadRequest: "BAD_REQUEST",
    e.InvalidDocument: "GRAPHQL_VALIDATION_FAILED",
    e.DocumentSyntaxError: "GRAPHQL_PARSE_FAILED",
}


def code_for(error_type: type[BaseException]) -> str:
    """The GraphQL code of an error class: its own entry or its nearest ancestor's."""
    for cls in error_type.__mro__:
        code = _CODES.get(cls)  # type: ignore[call-overload]
        if code is not None:
            return code
    return INTERNAL


def error_extensions(exc: e.PanjerehError) -> dict[str, Any]:
    """`extensions` for a client-visible error: code, retryable, and agency/field/limit/
    retry-after/required level/expected-back time where they apply."""
    extensions: dict[str, Any] = {"code": code_for(type(exc)), "retryable": exc.retryable}
    if isinstance(exc, e.AgencyError):
        extensions["agency"] = exc.agency
    if isinstance(exc, e.InvalidInput):
        extensions["field"] = exc.field
    if isinstance(exc, e.QueryTooComplex) and exc.limit is not None:
        extensions["limit"] = exc.limit
        extensions["max"] = exc.maximum
    if isinstance(exc, e.InsufficientLevel):
        extensions["requiredLevel"] = exc.required_level
    if isinstance(exc, e.AgencyInMaintenance):
        extensions["expectedBackAt"] = exc.expected_back_at.isoformat()
    if exc.retry_after is not None:
        extensions["retryAfterSeconds"] = max(0, math.ceil(exc.retry_after))
    return extensions
