"""National Post Company (شرکت ملی پست): a resident's registered address."""

from __future__ import annotations

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import AsciiDigits, CamelWire, PersianText
from domain.models import Address

__all__ = ["PostConnector"]


class AddressWire(CamelWire):
    """The address record; every digit in it is a Persian digit on the wire."""

    postal_code: AsciiDigits
    province: PersianText
    city: PersianText
    street: PersianText
    plaque: AsciiDigits
    unit: AsciiDigits | None = None
    floor: AsciiDigits | None = None


def _to_domain(wire: AddressWire) -> Address:
    if not (wire.postal_code.isascii() and wire.postal_code.isdigit()):
        raise ValueError("the postal code is not made of digits")
    if len(wire.postal_code) != 10:
        raise ValueError("a postal code has ten digits")
    return Address(
        postal_code=wire.postal_code,
        province=wire.province,
        city=wire.city,
        street=wire.street,
        plaque=wire.plaque,
        unit=wire.unit,
        floor=wire.floor,
    )


class PostConnector(AgencyConnector):
    """A registered address changes rarely (a move is registered once), so it is kept for a day
    and served stale for a week."""

    agency_id = "post"
    name_fa = "شرکت ملی پست"
    name_en = "National Post Company"
    policy = AgencyPolicy(timeout=2.0, fresh_ttl=86_400, stale_ttl=7 * 86_400)

    @operation("address")
    async def fetch_address(self, national_code: str, *, deadline: Deadline) -> Address:
        return await self.get_json(
            f"/v2/residents/{national_code}/address", AddressWire, _to_domain, deadline=deadline
        )
