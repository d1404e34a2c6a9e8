"""How each field of a citizen is answered from the agencies.

Every agency-backed field fetches through the request's loaders (one call per agency operation
per request) and lets agency errors propagate: graphql-core nulls that field only and the
`ErrorCodes` extension gives the error its code. Aggregated lists catch per agency instead.
"""

from __future__ import annotations

from domain.identifiers import parse_mobile
from domain.models import Bill as BillModel
from domain.models import License as LicenseModel
from domain.sourced import Source
from resolvers.aggregate import SourcePart, gather_parts
from resolvers.context import GatewayContext
from schema import types as t
from schema.aggregates import BillList, LicenseList

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


async def profile(ctx: GatewayContext, national_code: str) -> t.Profile:
    c = ctx.connectors
    return t.Profile.of(await ctx.loaders.load(c.civil_registry.fetch_person, national_code))


async def address(ctx: GatewayContext, national_code: str) -> t.Address:
    return t.Address.of(await ctx.loaders.load(ctx.connectors.post.fetch_address, national_code))


async def mobile_check(ctx: GatewayContext, national_code: str, mobile: str) -> t.MobileCheck:
    number = parse_mobile(mobile)
    op = ctx.connectors.shahkar.check_mobile
    return t.MobileCheck.of(await ctx.loaders.load(op, national_code, number))


async def bills(ctx: GatewayContext, national_code: str) -> BillList:
    c, load = ctx.connectors, ctx.loaders.load

    def part(agency: str, op: object) -> SourcePart[BillModel]:
        async def fetch() -> tuple[list[BillModel], Source]:
            fetched = await load(op, national_code)  # type: ignore[arg-type]
            return fetched.value, fetched.source

        return SourcePart(agency, fetch)

    async def tax_debts() -> tuple[list[BillModel], Source]:
        fetched = await load(c.tax.fetch_tax_record, national_code)
        return fetched.value.debts, fetched.source

    gathered = await gather_parts(
        [
            part(c.water.agency_id, c.water.fetch_bills),
            part(c.electricity.agency_id, c.electricity.fetch_bills),
            part(c.gas.agency_id, c.gas.fetch_bills),
            part(c.telecom.agency_id, c.telecom.fetch_bills),
            part(c.traffic_police.agency_id, c.traffic_police.fetch_fines),
            SourcePart(c.tax.agency_id, tax_debts),
        ]
    )
    items = [t.Bill.of(bill, source) for bill, source in gathered.items]
    total = sum(bill.amount_rial for bill, _ in gathered.items if not bill.paid)
    return BillList(
        items=items, total_amount=total, sources=gathered.statuses, complete=gathered.complete
    )


async def licenses(ctx: GatewayContext, national_code: str) -> LicenseList:
    c, load = ctx.connectors, ctx.loaders.load

    async def portal() -> tuple[list[LicenseModel], Source]:
        fetched = await load(c.licensing_portal.fetch_licenses, national_code)
        return fetched.value, fetched.source

    async def driving() -> tuple[list[LicenseModel], Source]:
        fetched = await load(c.traffic_police.fetch_driving_license, national_code)
        return [fetched.value], fetched.source

    gathered = await gather_parts(
        [
            SourcePart(c.licensing_portal.agency_id, portal),
            SourcePart(c.traffic_police.agency_id, driving),
        ]
    )
    items = [t.License.of(lic, source) for lic, source in gathered.items]
    return LicenseList(items=items, sources=gathered.statuses, complete=gathered.complete)


async def vehicles(ctx: GatewayContext, national_code: str) -> t.VehicleList:
    op = ctx.connectors.traffic_police.fetch_vehicles
    return t.VehicleList.of(await ctx.loaders.load(op, national_code))


async def education(ctx: GatewayContext, national_code: str) -> t.EducationRecords:
    op = ctx.connectors.education.fetch_records
    return t.EducationRecords.of(await ctx.loaders.load(op, national_code))


async def social_security(ctx: GatewayContext, national_code: str) -> t.SocialSecurity:
    op = ctx.connectors.social_security.fetch_record
    return t.SocialSecurity.of(await ctx.loaders.load(op, national_code))


async def health_insurance(ctx: GatewayContext, national_code: str) -> t.HealthCoverage:
    op = ctx.connectors.health_insurance.fetch_coverage
    return t.HealthCoverage.of(await ctx.loaders.load(op, national_code))


async def judicial_notices(ctx: GatewayContext, national_code: str) -> t.JudicialNotices:
    op = ctx.connectors.judiciary.fetch_notices
    return t.JudicialNotices.of(await ctx.loaders.load(op, national_code))


async def military_service(ctx: GatewayContext, national_code: str) -> t.MilitaryService:
    op = ctx.connectors.military_service.fetch_status
    return t.MilitaryService.of(await ctx.loaders.load(op, national_code))


async def tax_filings(ctx: GatewayContext, national_code: str) -> t.TaxStatus:
    fetched = await ctx.loaders.load(ctx.connectors.tax.fetch_tax_record, national_code)
    return t.TaxStatus.of(fetched)
