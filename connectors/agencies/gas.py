"""National Iranian Gas Company (گاز): the last unpaid bill of each subscription."""

from __future__ import annotations

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import CamelWire, JalaliDate
from domain.models import Bill, BillKind

__all__ = ["GasConnector"]


class GasBillWire(CamelWire):
    shenase_ghabz: str
    shenase_pardakht: str
    mablagh: int
    mohlat: JalaliDate


class GasSubscriptionWire(CamelWire):
    eshterak: str
    last_bill: GasBillWire | None


class GasSubscriptionsWire(CamelWire):
    subscriptions: list[GasSubscriptionWire]


def _to_domain(wire: GasSubscriptionsWire) -> list[Bill]:
    return [
        Bill(
            kind=BillKind.GAS,
            bill_id=s.last_bill.shenase_ghabz,
            payment_id=s.last_bill.shenase_pardakht,
            amount_rial=s.last_bill.mablagh,
            due_date=s.last_bill.mohlat,
            subscription=s.eshterak,
        )
        for s in wire.subscriptions
        if s.last_bill is not None
    ]


class GasConnector(AgencyConnector):
    """Gas bills change at most monthly and a payment should show soon: five minutes fresh, six
    hours stale."""

    agency_id = "gas"
    name_fa = "گاز"
    name_en = "Gas"
    policy = AgencyPolicy(timeout=2.0, fresh_ttl=300, stale_ttl=6 * 3600)

    @operation("bills")
    async def fetch_bills(self, national_code: str, *, deadline: Deadline) -> list[Bill]:
        return await self.get_json(
            f"/gas/subscriptions/{national_code}",
            GasSubscriptionsWire,
            _to_domain,
            deadline=deadline,
        )
