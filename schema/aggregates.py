"""Lists gathered from several agencies (DESIGN §6), derived from resolvers/citizen.py's results.

An aggregated list never fails as a whole: it holds the items that could be had and, per agency,
whether that agency's part is fresh, stale or missing, with the typed reason when missing.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.errors import AgencyInMaintenance, PanjerehError
from domain.sourced import PartStatus, SourceState
from resolvers import citizen as r
from schema.derive import object_type
from schema.error_codes import INTERNAL, error_extensions
from schema.records import Bill, License  # noqa: F401 - derived before the lists that hold them

__all__ = ["BillList", "LicenseList", "SourceError", "SourceStatus"]

strawberry.enum(
    SourceState, description="How one agency's part of an aggregated list was obtained."
)


@strawberry.type(description="Why an agency's part is missing; same fields as error extensions.")
class SourceError:
    code: str
    message: str
    retryable: bool
    retry_after_seconds: int | None = None
    expected_back_at: dt.datetime | None = strawberry.field(
        default=None,
        description="When the agency is expected back from planned maintenance (Tehran time); "
        "null for any other error.",
    )


def _error(root: PartStatus) -> SourceError | None:
    """The part's error as a client sees it: its code, or INTERNAL without detail."""
    exc = root.error
    if exc is None:
        return None
    if not isinstance(exc, PanjerehError):
        return SourceError(
            code=INTERNAL, message="Internal error; it has been logged.", retryable=False
        )
    ext = error_extensions(exc)
    return SourceError(
        code=ext["code"],
        message=exc.message,
        retryable=ext["retryable"],
        retry_after_seconds=ext.get("retryAfterSeconds"),
        expected_back_at=exc.expected_back_at if isinstance(exc, AgencyInMaintenance) else None,
    )


SourceStatus = object_type(
    PartStatus,
    name="SourceStatus",
    description="One agency's part of an aggregated list.",
    exclude=("error",),
    extra={"error": strawberry.field(resolver=_error)},
)
BillList = object_type(
    r.BillList,
    description="Unpaid and recent bills from every agency that bills the citizen.",
)
LicenseList = object_type(
    r.LicenseList, description="Licenses from the licensing portal and the traffic police."
)
