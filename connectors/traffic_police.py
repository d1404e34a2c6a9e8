"""Traffic police (پلیس راهور): a citizen's vehicles, traffic fines and driving license."""

from __future__ import annotations

import asyncio
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from connectors.base import AgencyConnector, operation
from connectors.policy import AgencyPolicy
from connectors.wire import AsciiDigits, CamelWire, JalaliDate, JalaliDateTime, PersianText
from domain.models import Bill, BillKind, License, LicenseKind, LicenseStatus, Vehicle

__all__ = ["TrafficPoliceConnector"]

ItemT = TypeVar("ItemT", bound=BaseModel)

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


def _check_total_pages(first: PageWire[ItemT]) -> None:
    if first.total_pages > _MAX_PAGES:
        raise ValueError(f"totalPages {first.total_pages} exceeds {_MAX_PAGES}")
    if first.total_pages == 0 and first.items:
        raise ValueError("items on a list whose totalPages is 0")


def _items_of(pages: list[PageWire[ItemT]]) -> list[ItemT]:
    """The items of pages 1..n in order, after checking each page is the one asked for."""
    for number, page in enumerate(pages, start=1):
        if page.page != number:
            raise ValueError(f"asked for page {number}, got page {page.page}")
    return [item for page in pages for item in page.items]


class TrafficPoliceConnector(AgencyConnector):
    """Fines are bills a citizen pays and expects to vanish soon, so they are fresh for five
    minutes and kept six hours; vehicles and driving licenses change far less often: a day fresh,
    a week kept."""

    agency_id = "traffic-police"
    title = "پلیس راهور"
    policy = AgencyPolicy(
        timeout=3.0,
        fresh_ttl=300,
        stale_ttl=6 * 3600,
        kind_ttls={"vehicles": (86_400, 7 * 86_400), "driving-license": (86_400, 7 * 86_400)},
    )

    @operation("vehicles")
    async def fetch_vehicles(self, national_code: str) -> list[Vehicle]:
        items = await self._all_pages("/rahvar/api/v1/vehicles", national_code, VehicleWire)
        return [_vehicle_to_domain(v) for v in items]

    @operation("fines")
    async def fetch_fines(self, national_code: str) -> list[Bill]:
        items = await self._all_pages("/rahvar/api/v1/fines", national_code, FineWire)
        return [_fine_to_domain(f) for f in items]

    @operation("driving-license")
    async def fetch_driving_license(self, national_code: str) -> License:
        wire = await self.get_json(
            "/rahvar/api/v1/driving-license",
            DrivingLicenseWire,
            params={"nationalCode": national_code},
        )
        return _license_to_domain(wire)

    async def _all_pages(
        self, path: str, national_code: str, item_model: type[ItemT]
    ) -> list[ItemT]:
        """Page 1 first (it tells how many pages there are), then the rest concurrently."""
        page_model: type[PageWire[ItemT]] = PageWire[item_model]  # type: ignore[valid-type]

        def params(page: int) -> dict[str, str]:
            return {"nationalCode": national_code, "page": str(page), "pageSize": str(_PAGE_SIZE)}

        first = await self.get_json(path, page_model, params=params(1))
        _check_total_pages(first)
        rest = await asyncio.gather(
            *(
                self.get_json(path, page_model, params=params(page))
                for page in range(2, first.total_pages + 1)
            )
        )
        return _items_of([first, *rest])
