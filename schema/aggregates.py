"""Per-agency states (DESIGN §6), derived from resolvers/citizen.py's results: the lists gathered
from several agencies, and the `SourceStatus` entries they and `Citizen.sources` share.

An aggregated list never fails as a whole: it holds the items that could be had and, per agency,
whether that agency's part is fresh, empty, stale or missing, with the typed reason when missing
or stale.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.errors import AgencyInMaintenance, PanjerehError
from domain.sourced import PartStatus, SourceState
from resolvers import citizen as r
from schema.derive import object_type
from schema.error_codes import INTERNAL, error_extensions, message_fa
from schema.records import Bill, License  # noqa: F401 - derived before the lists that hold them

__all__ = ["BillList", "LicenseList", "SourceError", "SourceStatus"]

strawberry.enum(
    SourceState,
    description="What one agency's part of an answer came to. OK: it answered with data. EMPTY: "
    "it answered that it holds nothing (no record, or an empty list: a state, not an error; the "
    "fields are null or empty lists). STALE: it failed, and a cached copy is shown (see "
    "`ageSeconds` and `error`). UNAVAILABLE: it failed and nothing could be shown (see `error`).",
)


@strawberry.type(
    description="Why an agency's part is missing (UNAVAILABLE) or stale (STALE); the same fields "
    "as an error's extensions."
)
class SourceError:
    code: str
    message: str
    message_fa: str = strawberry.field(
        description="A sentence a citizen can read, in Persian: which agency, and when to try "
        "again or how old the copy shown is."
    )
    retryable: bool
    retry_after_seconds: int | None = None
    expected_back_at: dt.datetime | None = strawberry.field(
        default=None,
        description="When the agency is expected back from planned maintenance (Tehran time); "
        "null for any other error.",
    )


def _error(root: PartStatus) -> SourceError | None:
    """The part's error as a client sees it: its code, or INTERNAL without detail; for a stale
    copy, why it is stale, said with the copy's age."""
    exc = root.error
    if exc is None:
        return None
    if not isinstance(exc, PanjerehError):
        return SourceError(
            code=INTERNAL,
            message="Internal error; it has been logged.",
            message_fa=message_fa({"code": INTERNAL}),
            retryable=False,
        )
    age = root.source.age_seconds() if root.state is SourceState.STALE and root.source else None
    ext = error_extensions(exc, stale_age_s=age)
    return SourceError(
        code=ext["code"],
        message=exc.message,
        message_fa=ext["messageFa"],
        retryable=ext["retryable"],
        retry_after_seconds=ext.get("retryAfterSeconds"),
        expected_back_at=exc.expected_back_at if isinstance(exc, AgencyInMaintenance) else None,
    )


SourceStatus = object_type(
    PartStatus,
    name="SourceStatus",
    description="One agency's part of an answer: its state, when it answered and how old that "
    "is, and why it failed.",
    exclude=("error",),
    extra={
        "name_fa": strawberry.field(
            graphql_type=str, description="The agency's name as citizens know it (Persian)."
        ),
        "name_en": strawberry.field(graphql_type=str, description="The agency's name in English."),
        "fetched_at": strawberry.field(
            graphql_type=dt.datetime | None,
            description="When the agency gave this answer (OK, EMPTY) or the copy shown (STALE); "
            "null when UNAVAILABLE.",
        ),
        "age": strawberry.field(
            graphql_type=int | None,
            name="ageSeconds",
            description="Seconds since `fetchedAt`, as of this response; null when UNAVAILABLE.",
        ),
        "error": strawberry.field(
            resolver=_error,
            description="Why the part is missing (UNAVAILABLE) or stale (STALE); null otherwise.",
        ),
    },
)
BillList = object_type(
    r.BillList,
    description="Unpaid and recent bills from every agency that bills the citizen.",
)
LicenseList = object_type(
    r.LicenseList, description="Licenses from the licensing portal and the traffic police."
)
