"""How each field of a citizen is answered from the agencies.

Every agency-backed field fetches through the request's loaders (one call per agency operation
per request) and lets agency errors propagate: graphql-core nulls that field only and the
`ErrorCodes` extension gives the error its code. Aggregated lists catch per agency instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from domain.identifiers import parse_mobile
from domain.sourced import Fetched, Source
from resolvers.aggregate import SourcePart, gather_parts
from resolvers.context import GatewayContext
from schema import types as t
from schema.aggregates import BillList, LicenseList

T = TypeVar("T")
Item = TypeVar("Item")

__all__ = [
    "address",
    "bills",
    "education",
    "health_insurance",
    "judicial_notices",
    "licenses",
    "military_service",
    "mobile_check",
    "profile",
    "social_security",
    "tax_filings",
    "vehicles",
]


async def _single(
    ctx: GatewayContext,
    op: Callable[[str], Awaitable[Fetched[T]]],
    national_code: str,
    of: Callable[[Fetched[T]], Item],
) -> Item:
    """One agency answer through the request's loaders, as its GraphQL type."""
    return of(await ctx.loaders.load(op, national_code))


async def profile(ctx: GatewayContext, national_code: str) -> t.Profile:
    op = ctx.connectors.civil_registry.fetch_person
    return await _single(ctx, op, national_code, t.Profile.of)


async def address(ctx: GatewayContext, national_code: str) -> t.Address:
    return await _single(ctx, ctx.connectors.post.fetch_address, national_code, t.Address.of)


async def mobile_check(ctx: GatewayContext, national_code: str, mobile: str) -> t.MobileCheck:
    number = parse_mobile(mobile)
    op = ctx.connectors.shahkar.check_mobile
    return t.MobileCheck.of(await ctx.loaders.load(op, national_code, number))


def _part(
    ctx: GatewayContext,
    agency: str,
    op: Callable[[str], Awaitable[Fetched[T]]],
    national_code: str,
    items: Callable[[T], list[Item]],
) -> SourcePart[Item]:
    """One agency's share of an aggregated list, loaded through the request's loaders."""

    async def fetch() -> tuple[list[Item], Source]:
        fetched = await ctx.loaders.load(op, national_code)
        return items(fetched.value), fetched.source

    return SourcePart(agency, fetch)


def _as_list(value: list[Item]) -> list[Item]:
    return value


async def bills(ctx: GatewayContext, national_code: str) -> BillList:
    c, nc = ctx.connectors, national_code
    gathered = await gather_parts(
        [
            _part(ctx, c.water.agency_id, c.water.fetch_bills, nc, _as_list),
            _part(ctx, c.electricity.agency_id, c.electricity.fetch_bills, nc, _as_list),
            _part(ctx, c.gas.agency_id, c.gas.fetch_bills, nc, _as_list),
            _part(ctx, c.telecom.agency_id, c.telecom.fetch_bills, nc, _as_list),
            _part(ctx, c.traffic_police.agency_id, c.traffic_police.fetch_fines, nc, _as_list),
            _part(ctx, c.tax.agency_id, c.tax.fetch_tax_record, nc, lambda r: r.debts),
        ]
    )
    items = [t.Bill.of(bill, source) for bill, source in gathered.items]
    total = sum(bill.amount_rial for bill, _ in gathered.items if not bill.paid)
    return BillList(
        items=items, total_amount=total, sources=gathered.statuses, complete=gathered.complete
    )


async def licenses(ctx: GatewayContext, national_code: str) -> LicenseList:
    c, nc = ctx.connectors, national_code
    portal, police = c.licensing_portal, c.traffic_police
    gathered = await gather_parts(
        [
            _part(ctx, portal.agency_id, portal.fetch_licenses, nc, _as_list),
            _part(ctx, police.agency_id, police.fetch_driving_license, nc, lambda lic: [lic]),
        ]
    )
    items = [t.License.of(lic, source) for lic, source in gathered.items]
    return LicenseList(items=items, sources=gathered.statuses, complete=gathered.complete)


async def vehicles(ctx: GatewayContext, national_code: str) -> t.VehicleList:
    op = ctx.connectors.traffic_police.fetch_vehicles
    return await _single(ctx, op, national_code, t.VehicleList.of)


async def education(ctx: GatewayContext, national_code: str) -> t.EducationRecords:
    op = ctx.connectors.education.fetch_records
    return await _single(ctx, op, national_code, t.EducationRecords.of)


async def social_security(ctx: GatewayContext, national_code: str) -> t.SocialSecurity:
    op = ctx.connectors.social_security.fetch_record
    return await _single(ctx, op, national_code, t.SocialSecurity.of)


async def health_insurance(ctx: GatewayContext, national_code: str) -> t.HealthCoverage:
    op = ctx.connectors.health_insurance.fetch_coverage
    return await _single(ctx, op, national_code, t.HealthCoverage.of)


async def judicial_notices(ctx: GatewayContext, national_code: str) -> t.JudicialNotices:
    op = ctx.connectors.judiciary.fetch_notices
    return await _single(ctx, op, national_code, t.JudicialNotices.of)


async def military_service(ctx: GatewayContext, national_code: str) -> t.MilitaryService:
    op = ctx.connectors.military_service.fetch_status
    return await _single(ctx, op, national_code, t.MilitaryService.of)


async def tax_filings(ctx: GatewayContext, national_code: str) -> t.TaxStatus:
    return await _single(ctx, ctx.connectors.tax.fetch_tax_record, national_code, t.TaxStatus.of)
