"""What a bill ID and payment ID say by themselves, once their check digits hold."""

from __future__ import annotations

from typing import Self

import strawberry

from domain.identifiers import BillId, PaymentId, ServiceType
from schema.scalars import Rial

__all__ = ["BillInquiry", "BillService"]

BillService = strawberry.enum(ServiceType, name="BillService", description="Service of a bill ID.")


@strawberry.type(description="A decoded, check-digit-verified bill ID and payment ID pair.")
class BillInquiry:
    bill_id: str
    payment_id: str
    service: BillService
    company_code: str
    file_code: str
    amount: Rial
    year_digit: int = strawberry.field(description="Last digit of the Jalali year billed.")
    period: int

    @classmethod
    def of(cls, bill: BillId, payment: PaymentId) -> Self:
        return cls(
            bill_id=bill.value,
            payment_id=payment.value,
            service=bill.service,
            company_code=bill.company_code,
            file_code=bill.file_code,
            amount=payment.amount_rial,
            year_digit=payment.year_digit,
            period=payment.period,
        )
