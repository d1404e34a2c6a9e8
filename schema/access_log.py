"""GraphQL types of `me { accessLog }`: who read the citizen's data, a page at a time."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import strawberry

from domain.agencies import name_en, name_fa
from observability.access_index import AccessItem, AccessPage

__all__ = ["AccessLog", "AccessLogEntry", "AccessOutcome", "AgencyName", "PageInfo"]


@strawberry.type(description="An agency, by its id and its names.")
class AgencyName:
    id: str
    name_fa: str = strawberry.field(description="The agency's name as citizens know it (Persian).")
    name_en: str = strawberry.field(description="The agency's name in English.")

    @classmethod
    def of(cls, agency: str) -> AgencyName:
        return cls(id=agency, name_fa=name_fa(agency), name_en=name_en(agency))


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
    agencies: list[str] = strawberry.field(description="Agencies asked for this read (ids).")
    agency_names: list[AgencyName] = strawberry.field(
        description="The same agencies with their Persian and English names."
    )
    fields: list[str] = strawberry.field(description="Fields asked, e.g. `records.tax`.")
    outcome: AccessOutcome

    @classmethod
    def of(cls, item: AccessItem) -> AccessLogEntry:
        return cls(
            client=item.client,
            at=item.at,
            purpose=item.purpose,
            agencies=item.agencies,
            agency_names=[AgencyName.of(agency) for agency in item.agencies],
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
