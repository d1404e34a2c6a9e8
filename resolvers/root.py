"""Root fields: who may read which citizen, and the bill and Sheba inquiries (pure validation, no
agency)."""

from __future__ import annotations

from dataclasses import dataclass, field

from auth.principal import PrincipalKind, Scope
from domain.banks import Bank, bank_for_code
from domain.errors import Forbidden, InvalidInput, Unauthenticated
from domain.identifiers import (
    ServiceType,
    format_sheba,
    parse_bill_id,
    parse_national_code,
    parse_payment_id,
    parse_sheba,
    sheba_bank_code,
)
from domain.models import Rial
from domain.purpose import validate_purpose
from resolvers.context import GatewayContext

__all__ = [
    "DecodedBill",
    "DecodedSheba",
    "bill_inquiry",
    "citizen_code",
    "my_code",
    "sheba_inquiry",
]


def my_code(ctx: GatewayContext, key: str = "me") -> str:
    """The national code of the citizen calling, or UNAUTHENTICATED/FORBIDDEN; the read is
    noted in the request's audit trail under the response `key`."""
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("a bearer token is required", reason="missing")
    if principal.kind is not PrincipalKind.CITIZEN or principal.national_code is None:
        raise Forbidden("`me` is for citizen tokens; service clients use `citizen`")
    ctx.audit.opened(key, "me", principal.national_code)
    return principal.national_code


def citizen_code(
    ctx: GatewayContext, national_code: str, purpose: str, key: str = "citizen"
) -> str:
    """Validate a request to read a citizen: a service token with scope and a valid purpose
    (or the citizen themself). Granted and refused accesses are noted in the audit trail; a
    refused one without its purpose."""
    code = parse_national_code(national_code)
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("a bearer token is required", reason="missing")
    try:
        stated = validate_purpose(purpose)
    except InvalidInput:
        ctx.audit.denied(key, "citizen", code, "INVALID_INPUT")
        raise
    if principal.kind is PrincipalKind.CITIZEN and principal.national_code == code:
        ctx.audit.opened(key, "citizen", code, stated)
        return code
    if principal.kind is not PrincipalKind.SERVICE or not principal.has(Scope.CITIZEN_READ):
        ctx.audit.denied(key, "citizen", code, "FORBIDDEN")
        raise Forbidden(
            f"reading another citizen needs a service token with `{Scope.CITIZEN_READ}`"
        )
    ctx.audit.opened(key, "citizen", code, stated)
    return code


@dataclass(frozen=True, slots=True)
class DecodedBill:
    """What a bill ID and payment ID say by themselves, once their check digits hold."""

    bill_id: str
    payment_id: str
    service: ServiceType
    company_code: str
    file_code: str
    amount: Rial
    year_digit: int = field(metadata={"description": "Last digit of the Jalali year billed."})
    period: int


def bill_inquiry(bill_id: str, payment_id: str) -> DecodedBill:
    bill = parse_bill_id(bill_id)
    payment = parse_payment_id(payment_id, bill)
    return DecodedBill(
        bill_id=bill.value,
        payment_id=payment.value,
        service=bill.service,
        company_code=bill.company_code,
        file_code=bill.file_code,
        amount=Rial(payment.amount_rial),
        year_digit=payment.year_digit,
        period=payment.period,
    )


@dataclass(frozen=True, slots=True)
class DecodedSheba:
    """What a Sheba says by itself, once its check digits hold."""

    sheba: str = field(metadata={"description": "IR and 24 digits, ASCII, no spaces."})
    formatted: str = field(metadata={"description": "Grouped by four, as banks print it."})
    bank_code: str = field(metadata={"description": "The three digits after IR and its check."})
    bank: Bank | None = field(
        metadata={"description": "The bank of `bankCode`; null for a code not in the table."}
    )


def sheba_inquiry(sheba: str) -> DecodedSheba:
    value = parse_sheba(sheba)
    code = sheba_bank_code(value)
    return DecodedSheba(
        sheba=value, formatted=format_sheba(value), bank_code=code, bank=bank_for_code(code)
    )
