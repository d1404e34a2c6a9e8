"""What a Sheba says by itself, derived from `resolvers.root.DecodedSheba`."""

from __future__ import annotations

from domain.banks import Bank as BankRecord
from resolvers.root import DecodedSheba
from schema.derive import object_type

__all__ = ["Bank", "ShebaInquiry"]

Bank = object_type(
    BankRecord,
    name="Bank",
    description="A bank or credit institution, by the bank code the Central Bank assigns.",
)

ShebaInquiry = object_type(
    DecodedSheba,
    name="ShebaInquiry",
    description="A check-digit-verified Sheba (Iranian IBAN) and the bank it belongs to.",
)
