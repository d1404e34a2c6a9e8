"""Water and wastewater company (آبفا): bills of a citizen's subscriptions."""

from __future__ import annotations

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import CamelWire, JalaliDate
from domain.models import Bill, BillKind

__all__ = ["WaterConnector"]


class WaterBillWire(CamelWire):
    subscription_no: str
    bill_id: str
    payment_id: str
    amount: int
    due_date: JalaliDate
    period: str | None = None
    paid: bool = False


class WaterBillsWire(CamelWire):
    customer_name: str | None = None
    bills: list[WaterBillWire]


def _to_domain(wire: WaterBillsWire) -> list[Bill]:
    return [
        Bill(
            kind=BillKind.WATER,
            bill_id=b.bill_id,
            payment_id=b.payment_id,
            amount_rial=b.amount,
            due_date=b.due_date,
            period=b.period,
            subscription=b.subscription_no,
            paid=b.paid,
        )
        for b in wire.bills
    ]


class WaterConnector(AgencyConnector):
    """Water bills change at most monthly; a few minutes of freshness is plenty."""

    agency_id = "water"
    name_fa = "آب و فاضلاب"
    name_en = "Water and Wastewater"
    policy = AgencyPolicy(timeout=2.0, fresh_ttl=300, stale_ttl=6 * 3600)

    @operation("bills")
    async def fetch_bills(self, national_code: str, *, deadline: Deadline) -> list[Bill]:
        path = f"/api/customers/{national_code}/bills"
        return await self.get_json(path, WaterBillsWire, _to_domain, deadline=deadline)
