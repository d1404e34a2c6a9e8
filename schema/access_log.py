"""GraphQL types of `me { accessLog }`: who read the citizen's data, a page at a time."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import strawberry

from observability.access_index import AccessItem, AccessPage

__all__ = ["AccessLog", "AccessLogEntry", "AccessOutcome", "PageInfo"]


@strawberry.enum(description="How an access ended.")
class AccessOutcome(StrEnum):
    OK = "ok"
    PARTIAL = "partial"
    ERROR = "error"
    DENIED = "denied"


@strawberry.type(description="One read of the citizen's data by a service or caseworker.")
class AccessLogEntry:
    client: str = strawberry.field(description="Client id of the service that read.")
    at: dt.datetime
    purpose: str | None = strawberry.field(description="The purpose the service stated.")
    agencies: list[str] = strawberry.field(description="Agencies asked for this read.")
    fields: list[str] = strawberry.field(description="Fields asked, e.g. `records.tax`.")
    outcome: AccessOutcome

    @classmethod
    def of(cls, item: AccessItem) -> AccessLogEntry:
        return cls(
            client=item.client,
            at=item.at,
            purpose=item.purpose,
            agencies=item.agencies,
            fields=item.fields,
            outcome=AccessOutcome(item.outcome),
        )


@strawberry.type(description="Where a page ends, and whether another follows.")
class PageInfo:
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")
    has_next_page: bool


@strawberry.type(description="A page of accesses to the citizen's data, newest first.")
class AccessLog:
    items: list[AccessLogEntry]
    page_info: PageInfo

    @classmethod
    def of(cls, page: AccessPage) -> AccessLog:
        return cls(
            items=[AccessLogEntry.of(item) for item in page.items],
            page_info=PageInfo(end_cursor=page.end_cursor, has_next_page=page.has_next_page),
        )
