"""Traffic police (پلیس راهور): a citizen's vehicles, traffic fines and driving license."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, Field

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import AsciiDigits, CamelWire, JalaliDate, JalaliDateTime, PersianText
from domain.models import Bill, BillKind, License, LicenseKind, LicenseStatus, Vehicle

__all__ = ["TrafficPoliceConnector"]

ItemT = TypeVar("ItemT", bound=BaseModel)
DomainT = TypeVar("DomainT")

_PAGE_SIZE = 50
_MAX_PAGES = 100
_ISSUER = "پلیس راهور"
_LICENSE_STATUS: dict[str, LicenseStatus] = {
    "VALID": LicenseStatus.ACTIVE,
    "EXPIRED": LicenseStatus.EXPIRED,
    "SUSPENDED": LicenseStatus.SUSPENDED,
}


class PageWire(CamelWire, Generic[ItemT]):
    """One page of a list endpoint."""

    items: list[ItemT]
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    total_pages: int = Field(ge=0)
    total_items: int = Field(ge=0)


class VehicleWire(CamelWire):
    plate: AsciiDigits
    vin: str
    model: PersianText
    year: int
    color: PersianText


class FineWire(CamelWire):
    fine_id: str
    plate: AsciiDigits
    bill_id: str
    payment_id: str
    amount: int
    occurred_at: JalaliDateTime
    description: PersianText
    location: PersianText


class DrivingLicenseWire(CamelWire):
    license_number: AsciiDigits
    category: PersianText
    issued_at: JalaliDate
    expires_at: JalaliDate
    status: Literal["VALID", "EXPIRED", "SUSPENDED"]


def _vehicle_to_domain(wire: VehicleWire) -> Vehicle:
    return Vehicle(
        plate=wire.plate, vin=wire.vin, model=wire.model, year=wire.year, color=wire.color
    )


def _fine_to_domain(wire: FineWire) -> Bill:
    return Bill(
        kind=BillKind.TRAFFIC_FINE,
        bill_id=wire.bill_id,
        payment_id=wire.payment_id,
        amount_rial=wire.amount,
        subscription=wire.plate,
        description=wire.description,
        occurred_at=wire.occurred_at,
        location=wire.location,
    )


def _license_to_domain(wire: DrivingLicenseWire) -> License:
    return License(
        kind=LicenseKind.DRIVING,
        number=wire.license_number,
        title=wire.category,
        issuer=_ISSUER,
        status=_LICENSE_STATUS[wire.status],
        issued_at=wire.issued_at,
        expires_at=wire.expires_at,
    )


class _Page(NamedTuple, Generic[DomainT]):
    total_pages: int
    items: list[DomainT]


def _page_reader(
    number: int, to_domain: Callable[[ItemT], DomainT]
) -> Callable[[PageWire[ItemT]], _Page[DomainT]]:
    """Page `number` as domain items, checked inside its attempt: it must be the page asked for,
    and page 1 must announce a sane number of pages."""

    def read(page: PageWire[ItemT]) -> _Page[DomainT]:
        if page.page != number:
            raise ValueError(f"asked for page {number}, got page {page.page}")
        if number == 1:
            if page.total_pages > _MAX_PAGES:
                raise ValueError(f"totalPages {page.total_pages} exceeds {_MAX_PAGES}")
            if page.total_pages == 0 and page.items:
                raise ValueError("items on a list whose totalPages is 0")
        return _Page(page.total_pages, [to_domain(item) for item in page.items])

    return read


class TrafficPoliceConnector(AgencyConnector):
    """Fines are bills a citizen pays and expects to vanish soon, so they are fresh for five
    minutes and kept six hours; vehicles and driving licenses change far less often: a day fresh,
    a week kept."""

    agency_id = "traffic-police"
    name_fa = "پلیس راهور"
    name_en = "Traffic Police"
    policy = AgencyPolicy(
        timeout=3.0,
        fresh_ttl=300,
        stale_ttl=6 * 3600,
        kind_ttls={"vehicles": (86_400, 7 * 86_400), "driving-license": (86_400, 7 * 86_400)},
    )

    @operation("vehicles")
    async def fetch_vehicles(self, national_code: str, *, deadline: Deadline) -> list[Vehicle]:
        path = "/rahvar/api/v1/vehicles"
        return await self._all_pages(path, national_code, VehicleWire, _vehicle_to_domain, deadline)

    @operation("fines")
    async def fetch_fines(self, national_code: str, *, deadline: Deadline) -> list[Bill]:
        path = "/rahvar/api/v1/fines"
        return await self._all_pages(path, national_code, FineWire, _fine_to_domain, deadline)

    @operation("driving-license")
    async def fetch_driving_license(self, national_code: str, *, deadline: Deadline) -> License:
        return await self.get_json(
            "/rahvar/api/v1/driving-license",
            DrivingLicenseWire,
            _license_to_domain,
            params={"nationalCode": national_code},
            deadline=deadline,
        )

    async def _all_pages(
        self,
        path: str,
        national_code: str,
        item_model: type[ItemT],
        to_domain: Callable[[ItemT], DomainT],
        deadline: Deadline | None,
    ) -> list[DomainT]:
        """Page 1 first (it tells how many pages there are), then the rest concurrently; each
        page is checked and mapped inside its own attempt."""
        page_model: type[PageWire[ItemT]] = PageWire[item_model]  # type: ignore[valid-type]

        def page(number: int) -> Awaitable[_Page[DomainT]]:
            params = {
                "nationalCode": national_code,
                "page": str(number),
                "pageSize": str(_PAGE_SIZE),
            }
            reader = _page_reader(number, to_domain)
            return self.get_json(path, page_model, reader, params=params, deadline=deadline)

        first = await page(1)
        rest = await asyncio.gather(*(page(n) for n in range(2, first.total_pages + 1)))
        return [item for p in (first, *rest) for item in p.items]
