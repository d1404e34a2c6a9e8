"""How a citizen's data is had from the agencies: domain objects, never GraphQL types.

Every agency answer goes through the request's loaders (one call per agency operation per
request) and agency errors propagate: graphql-core nulls that field only and the `ErrorCodes`
extension gives the error its code. An agency's "no record" is not an error: the schema shows it
as null or an empty list (schema/fields.py), and `sources` as EMPTY. Lists gathered from several
agencies catch per agency instead. The schema (schema/fields.py) mounts these on fields;
everything below a field is read from what they return.

Each agency-backed field also says which lookups it makes (`LookupsOf`), so that `sources` can
report, per agency, what the lookups the query asked for came to: it waits on the very tasks the
fields started (or starts them first; the loaders make each lookup once either way).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connectors.pipeline.base import agency_of
from connectors.registry import AGENCY_IDS, Connectors
from domain.errors import PanjerehError
from domain.identifiers import parse_mobile
from domain.models import Bill, License, MobileCheck, Rial
from domain.sourced import Fetched, PartStatus, Sourced
from resolvers.aggregate import Gathered, SourcePart, combine, gather_parts, settle
from resolvers.context import GatewayContext
from resolvers.loaders import Lookup

__all__ = [
    "BILL_LOOKUPS",
    "LICENSE_LOOKUPS",
    "BillList",
    "LicenseList",
    "LookupsOf",
    "Operation",
    "bills",
    "fetch",
    "licenses",
    "mobile_check",
    "mobile_lookups",
    "operation_lookups",
    "sources",
]

T = TypeVar("T")
Item = TypeVar("Item")

Operation = Callable[[Connectors], Callable[[str], Awaitable[Fetched[Any]]]]
"""An agency operation on a citizen, picked from the connectors: `lambda c: c.post.fetch_address`.
"""

LookupsOf = Callable[[GatewayContext, str, Mapping[str, Any]], list[Lookup]]
"""The agency lookups a field makes for the citizen with a national code, given the field's
arguments (by their GraphQL names)."""


def operation_lookups(operation: Operation) -> LookupsOf:
    """The one lookup of a field answered by `operation`."""
    return lambda ctx, national_code, _: [(operation(ctx.connectors), (national_code,))]


async def fetch(ctx: GatewayContext, operation: Operation, national_code: str) -> Fetched[Any]:
    """One agency answer about a citizen, through the request's loaders."""
    return await ctx.loaders.load(operation(ctx.connectors), national_code)


async def mobile_check(
    ctx: GatewayContext, national_code: str, mobile: str
) -> Fetched[MobileCheck]:
    number = parse_mobile(mobile)
    return await ctx.loaders.load(ctx.connectors.shahkar.check_mobile, national_code, number)


def mobile_lookups(
    ctx: GatewayContext, national_code: str, arguments: Mapping[str, Any]
) -> list[Lookup]:
    """`mobileCheck`'s lookup; none when the number is refused (the field fails on its own
    and no agency is asked)."""
    try:
        number = parse_mobile(arguments["mobile"])
    except PanjerehError:
        return []
    return [(ctx.connectors.shahkar.check_mobile, (national_code, number))]


@dataclass(frozen=True)
class BillList:
    """Bills from every agency that bills the citizen, each with its source."""

    items: list[Sourced[Bill]]
    total_amount: Rial = field(
        metadata={"description": "Sum of the unpaid items that could be had."}
    )
    sources: list[PartStatus]
    complete: bool = field(
        metadata={"description": "True when every source answered, fresh (OK or EMPTY)."}
    )


@dataclass(frozen=True)
class LicenseList:
    """Licenses from the licensing portal and the traffic police, each with its source."""

    items: list[Sourced[License]]
    sources: list[PartStatus]
    complete: bool


Parts = Sequence[tuple[Operation, Callable[[Any], Sequence[Any]]]]
"""The agencies of a gathered list: each one's operation and how to read its items."""


def _as_list(value: Sequence[Item]) -> Sequence[Item]:
    return value


_BILL_PARTS: Parts = (
    (lambda c: c.water.fetch_bills, _as_list),
    (lambda c: c.electricity.fetch_bills, _as_list),
    (lambda c: c.gas.fetch_bills, _as_list),
    (lambda c: c.telecom.fetch_bills, _as_list),
    (lambda c: c.traffic_police.fetch_fines, _as_list),
    (lambda c: c.tax.fetch_tax_record, lambda record: record.debts),
)
_LICENSE_PARTS: Parts = (
    (lambda c: c.licensing_portal.fetch_licenses, _as_list),
    (lambda c: c.traffic_police.fetch_driving_license, lambda lic: (lic,)),
)


def _lookups_of(parts: Parts) -> LookupsOf:
    return lambda ctx, nc, _: [(operation(ctx.connectors), (nc,)) for operation, _ in parts]


BILL_LOOKUPS = _lookups_of(_BILL_PARTS)
LICENSE_LOOKUPS = _lookups_of(_LICENSE_PARTS)


def _gather(ctx: GatewayContext, national_code: str, parts: Parts) -> Awaitable[Gathered[Any]]:
    """Every part's lookup started now, through the request's loaders, then gathered."""
    started = []
    for operation, items in parts:
        op = operation(ctx.connectors)
        started.append(SourcePart(agency_of(op) or "", ctx.loaders.start(op, national_code), items))
    return gather_parts(started)


async def bills(ctx: GatewayContext, national_code: str) -> BillList:
    gathered: Gathered[Bill] = await _gather(ctx, national_code, _BILL_PARTS)
    total = sum(bill.amount_rial for bill in gathered.items if not bill.paid)
    return BillList(gathered.items, Rial(total), gathered.sources, gathered.complete)


async def licenses(ctx: GatewayContext, national_code: str) -> LicenseList:
    gathered: Gathered[License] = await _gather(ctx, national_code, _LICENSE_PARTS)
    return LicenseList(gathered.items, gathered.sources, gathered.complete)


async def sources(ctx: GatewayContext, lookups: Iterable[Lookup]) -> list[PartStatus]:
    """One status per agency of `lookups`, in the order of the agencies' registry: what the
    lookups the query asked for came to (see `combine` for an agency asked several things).

    Every lookup is started (or found running) through the request's loaders before any is
    awaited, so this waits as long as the slowest of them and asks no agency anything the
    query's own fields do not."""
    started: dict[Lookup, Awaitable[Fetched[Any]]] = {}
    for op, args in lookups:
        if (op, args) not in started:
            started[(op, args)] = ctx.loaders.start(op, *args)
    by_agency: dict[str, list[PartStatus]] = {}
    for (op, _), loaded in started.items():
        agency = agency_of(op) or ""
        status, _ = await settle(agency, loaded)
        by_agency.setdefault(agency, []).append(status)
    order = {agency: index for index, agency in enumerate(AGENCY_IDS)}
    return [
        combine(agency, parts)
        for agency, parts in sorted(by_agency.items(), key=lambda kv: order.get(kv[0], len(order)))
    ]
