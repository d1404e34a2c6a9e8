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

    agencies: list[AgencyStatus] | None = strawberry.field(
        resolver=agencies,
        description="Every agency: its state, availability, incidents and maintenance as the "
        "fleet sees them, and its circuit on this instance (ops scope).",
    )
