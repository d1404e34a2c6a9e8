"""How a citizen's data is had from the agencies: domain objects, never GraphQL types.

Every agency answer goes through the request's loaders (one call per agency operation per
request) and agency errors propagate: graphql-core nulls that field only and the `ErrorCodes`
extension gives the error its code. Lists gathered from several agencies catch per agency instead.
The schema (schema/fields.py) mounts these on fields; everything below a field is read from what
they return.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connectors.registry import Connectors
from domain.identifiers import parse_mobile
from domain.models import Bill, License, MobileCheck, Rial
from domain.sourced import Fetched, PartStatus, Sourced
from resolvers.aggregate import Gathered, SourcePart, gather_parts
from resolvers.context import GatewayContext

__all__ = ["BillList", "LicenseList", "Operation", "bills", "fetch", "licenses", "mobile_check"]

T = TypeVar("T")
Item = TypeVar("Item")

Operation = Callable[[Connectors], Callable[[str], Awaitable[Fetched[Any]]]]
"""An agency operation on a citizen, picked from the connectors: `lambda c: c.post.fetch_address`.
"""


async def fetch(ctx: GatewayContext, operation: Operation, national_code: str) -> Fetched[Any]:
    """One agency answer about a citizen, through the request's loaders."""
    return await ctx.loaders.load(operation(ctx.connectors), national_code)


async def mobile_check(
    ctx: GatewayContext, national_code: str, mobile: str
) -> Fetched[MobileCheck]:
    number = parse_mobile(mobile)
    return await ctx.loaders.load(ctx.connectors.shahkar.check_mobile, national_code, number)


@dataclass(frozen=True)
class BillList:
    """Bills from every agency that bills the citizen, each with its source."""

    items: list[Sourced[Bill]]
    total_amount: Rial = field(
        metadata={"description": "Sum of the unpaid items that could be had."}
    )
    sources: list[PartStatus]
    complete: bool = field(metadata={"description": "True when every source answered (fresh)."})


@dataclass(frozen=True)
class LicenseList:
    """Licenses from the licensing portal and the traffic police, each with its source."""

    items: list[Sourced[License]]
    sources: list[PartStatus]
    complete: bool


def _part(
    ctx: GatewayContext,
    agency: str,
    op: Callable[[str], Awaitable[Fetched[T]]],
    national_code: str,
    items: Callable[[T], Sequence[Item]],
) -> SourcePart[Item]:
    """One agency's share of a gathered list, its lookup started now through the request's
    loaders."""
    return SourcePart(agency, ctx.loaders.start(op, national_code), items)


def _as_list(value: Sequence[Item]) -> Sequence[Item]:
    return value


async def bills(ctx: GatewayContext, national_code: str) -> BillList:
    c, nc = ctx.connectors, national_code
    gathered: Gathered[Bill] = await gather_parts(
        [
            _part(ctx, c.water.agency_id, c.water.fetch_bills, nc, _as_list),
            _part(ctx, c.electricity.agency_id, c.electricity.fetch_bills, nc, _as_list),
            _part(ctx, c.gas.agency_id, c.gas.fetch_bills, nc, _as_list),
            _part(ctx, c.telecom.agency_id, c.telecom.fetch_bills, nc, _as_list),
            _part(ctx, c.traffic_police.agency_id, c.traffic_police.fetch_fines, nc, _as_list),
            _part(ctx, c.tax.agency_id, c.tax.fetch_tax_record, nc, lambda r: r.debts),
        ]
    )
    total = sum(bill.amount_rial for bill in gathered.items if not bill.paid)
    return BillList(gathered.items, Rial(total), gathered.sources, gathered.complete)


async def licenses(ctx: GatewayContext, national_code: str) -> LicenseList:
    c, nc = ctx.connectors, national_code
    portal, police = c.licensing_portal, c.traffic_police
    gathered: Gathered[License] = await gather_parts(
        [
            _part(ctx, portal.agency_id, portal.fetch_licenses, nc, _as_list),
            _part(ctx, police.agency_id, police.fetch_driving_license, nc, lambda lic: (lic,)),
        ]
    )
    return LicenseList(gathered.items, gathered.sources, gathered.complete)
