"""Telecommunication Company of Iran (مخابرات): debts of a citizen's fixed lines."""

from __future__ import annotations

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import CamelWire, JalaliDate
from domain.models import Bill, BillKind

__all__ = ["TelecomConnector"]


class TelecomDebtWire(CamelWire):
    bill_id: str
    payment_id: str
    amount: int
    due_date: JalaliDate


class TelecomPhoneWire(CamelWire):
    phone_number: str
    debt: TelecomDebtWire | None


class TelecomPhonesWire(CamelWire):
    phones: list[TelecomPhoneWire]


def _to_domain(wire: TelecomPhonesWire) -> list[Bill]:
    return [
        Bill(
            kind=BillKind.TELECOM,
            bill_id=p.debt.bill_id,
            payment_id=p.debt.payment_id,
            amount_rial=p.debt.amount,
            due_date=p.debt.due_date,
            subscription=p.phone_number,
        )
        for p in wire.phones
        if p.debt is not None
    ]


class TelecomConnector(AgencyConnector):
    """Phone bills change at most monthly and a payment should show soon: five minutes fresh, six
    hours stale."""

    agency_id = "telecom"
    name_fa = "مخابرات"
    name_en = "Telecommunication"
    policy = AgencyPolicy(timeout=2.0, fresh_ttl=300, stale_ttl=6 * 3600)

    @operation("bills")
    async def fetch_bills(self, national_code: str, *, deadline: Deadline) -> list[Bill]:
        return await self.get_json(
            "/tci/api/phones",
            TelecomPhonesWire,
            _to_domain,
            params={"nationalCode": national_code},
            deadline=deadline,
        )
