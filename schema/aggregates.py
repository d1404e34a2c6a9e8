"""Result objects for lists gathered from several agencies (DESIGN §6).

An aggregated list never fails as a whole: it holds the items that could be had and, per agency,
whether that agency's part is fresh, stale or missing, with the typed reason when missing.
"""

from __future__ import annotations

from enum import StrEnum

import strawberry

from schema.scalars import Rial
from schema.types import Bill, License, SourceInfo

__all__ = ["BillList", "LicenseList", "SourceError", "SourceState", "SourceStatus"]


@strawberry.enum(description="How one agency's part of an aggregated list was obtained.")
class SourceState(StrEnum):
    OK = "OK"
    STALE = "STALE"
    UNAVAILABLE = "UNAVAILABLE"


@strawberry.type(description="Why an agency's part is missing; same fields as error extensions.")
class SourceError:
    code: str
    message: str
    retryable: bool
    retry_after_seconds: int | None = None


@strawberry.type(description="One agency's part of an aggregated list.")
class SourceStatus:
    agency: str
    state: SourceState
    source: SourceInfo | None = strawberry.field(
        description="Null when the agency's part is missing or it holds no record."
    )
    error: SourceError | None = None


@strawberry.type(description="Unpaid and recent bills from every agency that bills the citizen.")
class BillList:
    items: list[Bill]
    total_amount: Rial = strawberry.field(description="Sum of the unpaid items that could be had.")
    sources: list[SourceStatus]
    complete: bool = strawberry.field(description="True when every source answered (fresh).")


@strawberry.type(description="Licenses from the licensing portal and the traffic police.")
class LicenseList:
    items: list[License]
    sources: list[SourceStatus]
    complete: bool
