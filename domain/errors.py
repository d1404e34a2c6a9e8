"""The one error tree of Panjereh.

Every failure a client can see is one of these classes; `schema/error_codes.py` maps each class to
its GraphQL ``extensions.code`` once, by walking the class's MRO, so a new subclass inherits its
parent's code unless it is given its own.

    PanjerehError
    ├── AgencyError                    (carries the agency id)
    │   ├── AgencyUnavailable          AGENCY_UNAVAILABLE   retryable
    │   │   ├── AgencyTimeout          AGENCY_TIMEOUT       retryable
    │   │   ├── CircuitOpen            CIRCUIT_OPEN         retryable
    │   │   ├── AgencyInMaintenance    AGENCY_MAINTENANCE   retryable, retry_after, back_at
    │   │   ├── AgencyRejected         AGENCY_UNAVAILABLE   retryable (bulkhead full)
    │   │   └── AgencyRateLimited      RATE_LIMITED         retryable, retry_after
    │   ├── AgencyBadResponse          AGENCY_BAD_RESPONSE
    │   └── AgencyNotFound             NOT_FOUND
    ├── NotFound                       NOT_FOUND
    ├── InvalidInput                   INVALID_INPUT        (carries the input field)
    ├── Unauthenticated                UNAUTHENTICATED
    ├── Forbidden                      FORBIDDEN
    │   └── InsufficientLevel          FORBIDDEN            (carries required_level)
    ├── RateLimited                    RATE_LIMITED         retryable, retry_after
    ├── QueryTooComplex                QUERY_TOO_COMPLEX    (carries the limit and its value)
    ├── BadRequest                     BAD_REQUEST          (not a well-formed GraphQL request)
    │   ├── MethodNotAllowed           BAD_REQUEST          HTTP 405, with the methods allowed
    │   ├── NotAcceptable              BAD_REQUEST          HTTP 406
    │   ├── BodyTooLarge               BAD_REQUEST          HTTP 413
    │   └── UnsupportedMediaType       BAD_REQUEST          HTTP 415
    ├── InvalidDocument                GRAPHQL_VALIDATION_FAILED  (the document: refused, not run)
    │   ├── DocumentSyntaxError        GRAPHQL_PARSE_FAILED
    │   └── DocumentValidationError    GRAPHQL_VALIDATION_FAILED
    ├── PersistedQueryNotFound         PERSISTED_QUERY_NOT_FOUND
    ├── PersistedQueryNotSupported     PERSISTED_QUERY_NOT_SUPPORTED
    └── PersistedQueryNotInList        PERSISTED_QUERY_NOT_IN_LIST

    InvalidInput
    └── PersistedQueryHashMismatch     INVALID_INPUT        (field: the persisted-query hash)

`BadRequest` and its subclasses are refusals of the HTTP request itself; `schema.http_input`
gives each its HTTP status. `InvalidDocument` stands for what graphql-core reports about the
document the client sent (its syntax, the specification's validation rules): the `ErrorCodes`
extension gives those errors their code through this tree too.

The two persisted-query messages are the exact words Apollo Client's persisted-queries link and
Apollo's mobile clients look for (`PersistedQueryNotFound`, `PersistedQueryNotSupported`).

Messages are written for the client: they never hold a stack trace, a URL of an agency, or a
national code.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from domain.jalali import TEHRAN, format_tehran_moment

if TYPE_CHECKING:
    from domain.sourced import Source

__all__ = [
    "AgencyBadResponse",
    "AgencyError",
    "AgencyInMaintenance",
    "AgencyNotFound",
    "AgencyRateLimited",
    "AgencyRejected",
    "AgencyTimeout",
    "AgencyUnavailable",
    "BadRequest",
    "BodyTooLarge",
    "CircuitOpen",
    "DocumentSyntaxError",
    "DocumentValidationError",
    "Forbidden",
    "InsufficientLevel",
    "InvalidDocument",
    "InvalidInput",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PanjerehError",
    "PersistedQueryHashMismatch",
    "PersistedQueryNotFound",
    "PersistedQueryNotInList",
    "PersistedQueryNotSupported",
    "QueryTooComplex",
    "RateLimited",
    "Unauthenticated",
    "UnsupportedMediaType",
]


class PanjerehError(Exception):
    """A failure the client may see, with a message safe to show."""

    retryable: bool = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class AgencyError(PanjerehError):
    """A failure attributed to one agency.

    `transient` tells the retry loop that repeating the same read right now may succeed (connect
    errors, timeouts, 502/503/504, 429 with Retry-After); `retryable` tells the client that asking
    again later may.
    """

    def __init__(
        self,
        agency: str,
        message: str,
        *,
        retry_after: float | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.agency = agency
        self.transient = transient


class AgencyUnavailable(AgencyError):
    """The agency could not be reached or answered with a server error."""

    retryable = True


class AgencyTimeout(AgencyUnavailable):
    """The agency did not answer within its timeout or the request's deadline."""


class CircuitOpen(AgencyUnavailable):
    """The agency's circuit is open: it was not called at all."""


class AgencyInMaintenance(AgencyUnavailable):
    """The agency is in planned maintenance: in an announced window (it was not called), or it
    answered 503 with Retry-After. `back_at` (unix seconds) is when it is expected back; the
    message says it in Tehran time with the Jalali date, for the citizen."""

    def __init__(self, agency: str, back_at: float, *, now: float, transient: bool = False) -> None:
        super().__init__(
            agency,
            f"{agency} is in planned maintenance; expected back at {format_tehran_moment(back_at)}",
            retry_after=max(0.0, back_at - now),
            transient=transient,
        )
        self.back_at = back_at

    @property
    def expected_back_at(self) -> dt.datetime:
        """`back_at` as an aware datetime in Tehran time, to the whole second (rounded up)."""
        return dt.datetime.fromtimestamp(math.ceil(self.back_at), TEHRAN)


class AgencyRejected(AgencyUnavailable):
    """Too many calls to the agency were in flight (the bulkhead): it was not called."""


class AgencyRateLimited(AgencyUnavailable):
    """The agency answered 429; `retry_after` says when it will take calls again."""


class AgencyBadResponse(AgencyError):
    """The agency answered, but not in its documented format."""


class AgencyNotFound(AgencyError):
    """The agency holds no record for what was asked.

    An answer, not a failure: a citizen's field shows it as null or an empty list, and its
    `source` (when the agency said so, and until when that holds: the short negative cache
    entry) says where that came from. The pipeline sets it; None when not known."""

    def __init__(self, agency: str, message: str, *, source: Source | None = None) -> None:
        super().__init__(agency, message)
        self.source = source


class NotFound(PanjerehError):
    """Nothing exists for what was asked."""


class InvalidInput(PanjerehError):
    """An argument failed validation; nothing was called and nothing changed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Unauthenticated(PanjerehError):
    """No valid bearer token was presented.

    `reason` is a bounded word for ops (the `reason` label of `panjereh_auth_failures_total`):
    `missing`, `malformed`, `untrusted`, `invalid`, `expired`, `not_yet_valid` or `lifetime`.
    """

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class Forbidden(PanjerehError):
    """The caller is authenticated but may not read this."""


class InsufficientLevel(Forbidden):
    """The citizen logged in at a lower authentication level (`acr`) than the field needs."""

    def __init__(self, required_level: int, level: int) -> None:
        super().__init__(
            f"this field needs authentication level {required_level}; the token has {level}: "
            "log in again with a stronger method"
        )
        self.required_level = required_level


class RateLimited(PanjerehError):
    """The caller sent too many requests."""

    retryable = True


class QueryTooComplex(PanjerehError):
    """The query exceeds a depth, cost, alias or token limit; `limit` names it, `maximum` is
    its configured value."""

    def __init__(
        self, message: str, *, limit: str | None = None, maximum: int | None = None
    ) -> None:
        super().__init__(message)
        self.limit = limit
        self.maximum = maximum


class BadRequest(PanjerehError):
    """The request is not a well-formed GraphQL request: a body that is not a JSON object,
    a wrong content type, an ambiguous operation. Refused before any GraphQL work."""


class MethodNotAllowed(BadRequest):
    """The HTTP method cannot do what was asked: not GET or POST, or a mutation over GET.
    `allowed` lists the methods that can (the `Allow` header of the 405)."""

    def __init__(self, message: str, *, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


class NotAcceptable(BadRequest):
    """The `Accept` header admits none of the media types a GraphQL answer is written in."""


class BodyTooLarge(BadRequest):
    """The request body is over the size bound."""


class UnsupportedMediaType(BadRequest):
    """A POST body that does not say it is UTF-8 JSON (`Content-Type`)."""


class InvalidDocument(PanjerehError):
    """The GraphQL document sent cannot run as sent; graphql-core said why."""


class DocumentSyntaxError(InvalidDocument):
    """The document does not parse."""


class DocumentValidationError(InvalidDocument):
    """The document breaks a validation rule of the GraphQL specification (a variable value
    that does not fit its type is the client's `InvalidInput` instead: see
    `schema.extensions.invalid_variables`)."""


class PersistedQueryNotFound(PanjerehError):
    """A persisted-query hash is not known: send the full query with the hash to register it
    (APQ), or use an operation of the manifest (manifest mode)."""

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class PersistedQueryNotSupported(PanjerehError):
    """Persisted queries are turned off: send the full query without the extension."""

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotSupported")


class PersistedQueryNotInList(PanjerehError):
    """Manifest mode: only the operations of the persisted-operations manifest run."""


class PersistedQueryHashMismatch(InvalidInput):
    """The query sent with a persisted-query hash does not hash to it; nothing was stored."""

    def __init__(self) -> None:
        super().__init__(
            "extensions.persistedQuery.sha256Hash",
            "the sha256Hash is not the SHA-256 of the query sent with it",
        )
