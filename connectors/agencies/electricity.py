"""Electricity distribution company (برق): bills of a citizen's meters."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import JalaliDate, SnakeWire
from domain.models import Bill, BillKind

__all__ = ["ElectricityConnector"]

RialString = Annotated[str, StringConstraints(pattern=r"^[0-9]+$")]
"""Electricity sends amounts as a string of ASCII digits."""


class ElectricityBillWire(SnakeWire):
    bill_identifier: str
    payment_identifier: str
    amount_rial: RialString
    deadline: JalaliDate
    consumption_kwh: int | None = None
    meter_no: str


class ElectricityDataWire(SnakeWire):
    items: list[ElectricityBillWire]


class ElectricityBillsWire(SnakeWire):
    status: Literal["OK"]
    data: ElectricityDataWire


def _to_domain(wire: ElectricityBillsWire) -> list[Bill]:
    return [
        Bill(
            kind=BillKind.ELECTRICITY,
            bill_id=b.bill_identifier,
            payment_id=b.payment_identifier,
            amount_rial=int(b.amount_rial),
            due_date=b.deadline,
            subscription=b.meter_no,
        )
        for b in wire.data.items
    ]


class ElectricityConnector(AgencyConnector):
    """Electricity bills change at most monthly and a payment should show soon: five minutes
    fresh, six hours stale."""

    agency_id = "electricity"
    name_fa = "برق"
    name_en = "Electricity"
    policy = AgencyPolicy(timeout=2.0, fresh_ttl=300, stale_ttl=6 * 3600)

    @operation("bills")
    async def fetch_bills(self, national_code: str, *, deadline: Deadline) -> list[Bill]:
        return await self.get_json(
            "/bargh/v1/bills",
            ElectricityBillsWire,
            _to_domain,
            params={"national_id": national_code},
            deadline=deadline,
        )
