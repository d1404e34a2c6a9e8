"""National Tax Administration (سازمان امور مالیاتی): a taxpayer's status, filings and debts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import CamelWire, JalaliDate
from domain.models import Bill, BillKind, TaxFiling, TaxRecord

__all__ = ["TaxConnector"]


class TaxFilingWire(CamelWire):
    year: int
    status: Literal["FILED", "NOT_FILED", "LATE"]


class TaxDebtWire(CamelWire):
    type: str
    year: int
    bill_id: str
    payment_id: str
    amount: int = Field(ge=0)
    due_date: JalaliDate


class TaxpayerWire(CamelWire):
    taxpayer_status: Literal["ACTIVE", "INACTIVE"]
    filings: list[TaxFilingWire]
    debts: list[TaxDebtWire]


def _to_domain(wire: TaxpayerWire) -> TaxRecord:
    return TaxRecord(
        status=wire.taxpayer_status,
        filings=[TaxFiling(year=f.year, status=f.status) for f in wire.filings],
        debts=[
            Bill(
                kind=BillKind.TAX,
                bill_id=d.bill_id,
                payment_id=d.payment_id,
                amount_rial=d.amount,
                due_date=d.due_date,
                subscription=str(d.year),
                description=d.type,
            )
            for d in wire.debts
        ],
    )


class TaxConnector(AgencyConnector):
    """A tax record is mostly history, but its debts are bills that should vanish soon after
    payment: ten minutes fresh, twelve hours stale."""

    agency_id = "tax"
    name_fa = "سازمان امور مالیاتی"
    name_en = "National Tax Administration"
    policy = AgencyPolicy(timeout=3.0, fresh_ttl=600, stale_ttl=12 * 3600)

    @operation("tax-record")
    async def fetch_tax_record(self, national_code: str, *, deadline: Deadline) -> TaxRecord:
        return await self.get_json(
            f"/tax/v1/taxpayers/{national_code}/debts", TaxpayerWire, _to_domain, deadline=deadline
        )
