"""The root Query type."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import root
from resolvers.context import GatewayContext
from schema.bill_inquiry import BillInquiry
from schema.citizen import ServedCitizen
from schema.me import Me
from schema.ops import AgencyStatus, agencies
from schema.sheba_inquiry import ShebaInquiry

__all__ = ["Query"]


@strawberry.type
class Query:
    @strawberry.field(description="The citizen of the bearer token.")
    def me(self, info: Info[GatewayContext, None]) -> Me | None:
        return Me(national_code=root.my_code(info.context, info.path.key))

    @strawberry.field(
        description="Another citizen, for service clients with the `citizen:read` scope; every "
        "access is audited with its stated purpose."
    )
    def citizen(
        self, info: Info[GatewayContext, None], national_code: str, purpose: str
    ) -> ServedCitizen | None:
        code = root.citizen_code(info.context, national_code, purpose, info.path.key)
        return ServedCitizen(national_code=code)

    @strawberry.field(
        description="Validate a bill ID and payment ID by their check digits and decode them: "
        "service, company, amount. Calls no agency."
    )
    def bill_inquiry(self, bill_id: str, payment_id: str) -> BillInquiry | None:
        return root.bill_inquiry(bill_id, payment_id)

    @strawberry.field(
        description="Validate a Sheba (IBAN) by its ISO 13616 check digits and name its bank. "
        "Calls no agency. Null with INVALID_INPUT (`field: sheba`) when it is not a valid Sheba."
    )
    def sheba_inquiry(self, sheba: str) -> ShebaInquiry | None:
        return root.sheba_inquiry(sheba)

    agencies: list[AgencyStatus] | None = strawberry.field(
        resolver=agencies,
        description="Every agency's circuit and last outcome on this instance (ops scope).",
    )
