"""What a bill ID and payment ID say by themselves, derived from `resolvers.root.DecodedBill`."""

from __future__ import annotations

import strawberry

from domain.identifiers import ServiceType
from resolvers.root import DecodedBill
from schema.derive import object_type

__all__ = ["BillInquiry", "BillService"]

BillService = strawberry.enum(
    ServiceType,
    name="BillService",
    description="Service of a bill ID, from its second-last digit: 1 water, 2 electricity, 3 gas, "
    "4 fixed telephone, 5 mobile, 6 municipality, 8 tax, 9 traffic fines (0 and 7 are refused).",
)

BillInquiry = object_type(
    DecodedBill,
    name="BillInquiry",
    description="A decoded, check-digit-verified bill ID and payment ID pair.",
)
