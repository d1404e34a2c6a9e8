"""Root fields: who may read which citizen, and the bill inquiry (pure validation, no agency)."""

from __future__ import annotations

import logging

from auth.principal import PrincipalKind, Scope
from domain.errors import Forbidden, InvalidInput, Unauthenticated
from domain.identifiers import parse_bill_id, parse_national_code, parse_payment_id
from resolvers.context import GatewayContext
from schema.bill_inquiry import BillInquiry

__all__ = ["bill_inquiry", "citizen_code", "my_code"]

audit = logging.getLogger("panjereh.audit")


def my_code(ctx: GatewayContext) -> str:
    """The national code of the citizen calling, or UNAUTHENTICATED/FORBIDDEN."""
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("a bearer token is required")
    if principal.kind is not PrincipalKind.CITIZEN or principal.national_code is None:
        raise Forbidden("`me` is for citizen tokens; service clients use `citizen`")
    return principal.national_code


def citizen_code(ctx: GatewayContext, national_code: str, purpose: str) -> str:
    """Validate a request to read another citizen: a service token with scope and a purpose."""
    code = parse_national_code(national_code)
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("a bearer token is required")
    if principal.kind is PrincipalKind.CITIZEN and principal.national_code == code:
        return code
    if principal.kind is not PrincipalKind.SERVICE or not principal.has(Scope.CITIZEN_READ):
        raise Forbidden(
            f"reading another citizen needs a service token with `{Scope.CITIZEN_READ}`"
        )
    if len(purpose.strip()) < 3:
        raise InvalidInput("purpose", "state the purpose of this access (at least 3 characters)")
    audit.info("citizen read by client=%s purpose=%r", principal.subject, purpose.strip()[:200])
    return code


def bill_inquiry(bill_id: str, payment_id: str) -> BillInquiry:
    bill = parse_bill_id(bill_id)
    payment = parse_payment_id(payment_id, bill)
    return BillInquiry.of(bill, payment)
