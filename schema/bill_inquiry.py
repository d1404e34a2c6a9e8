"""What a bill ID and payment ID say by themselves, derived from `resolvers.root.DecodedBill`."""

from __future__ import annotations

import strawberry

from domain.identifiers import ServiceType
from resolvers.root import DecodedBill
from schema.derive import object_type

__all__ = ["BillInquiry", "BillService"]

BillService = strawberry.enum(ServiceType, name="BillService", description="Service of a bill ID.")

BillInquiry = object_type(
    DecodedBill,
    name="BillInquiry",
    description="A decoded, check-digit-verified bill ID and payment ID pair.",
)
