"""billInquiry: check digits verified and IDs decoded before (and instead of) any agency call."""

from __future__ import annotations

import pytest

from domain.identifiers import build_payment_id, mod11_check_digit, parse_bill_id
from schema.error_codes import message_fa
from server import CONNECTORS
from tests.integration.queries import BILL_INQUIRY
from tests.support.gateway import RunningGateway

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _bill_id(file_code: str, company: str, service: int) -> str:
    body = f"{file_code}{company}{service}"
    return body + str(mod11_check_digit(body))


async def test_valid_ids_are_decoded(gateway: RunningGateway) -> None:
    bill_id = _bill_id("12345", "678", 2)  # electricity
    payment_id = build_payment_id(parse_bill_id(bill_id), 2_345_000, 3, 7)
    status, body = await gateway.query(
        BILL_INQUIRY,
        variables={"billId": bill_id.translate(PERSIAN), "paymentId": payment_id},
    )
    assert status == 200 and "errors" not in body
    assert body["data"]["billInquiry"] == {
        "billId": bill_id,
        "paymentId": payment_id,
        "service": "ELECTRICITY",
        "companyCode": "678",
        "fileCode": "12345",
        "amount": "2345000",
        "yearDigit": 3,
        "period": 7,
    }


async def test_amounts_beyond_32_bits_survive(gateway: RunningGateway) -> None:
    bill_id = _bill_id("9876543", "123", 8)  # tax
    payment_id = build_payment_id(parse_bill_id(bill_id), 12_500_000_000, 3, 1)
    _, body = await gateway.query(
        BILL_INQUIRY, variables={"billId": bill_id, "paymentId": payment_id}
    )
    assert body["data"]["billInquiry"]["amount"] == "12500000000"


@pytest.mark.parametrize(("digit", "service"), [(8, "TAX"), (9, "TRAFFIC_FINE")])
async def test_service_digits_8_and_9_are_tax_and_traffic_fines(
    gateway: RunningGateway, digit: int, service: str
) -> None:
    bill_id = _bill_id("4321", "765", digit)
    payment_id = build_payment_id(parse_bill_id(bill_id), 350_000, 4, 2)
    status, body = await gateway.query(
        BILL_INQUIRY, variables={"billId": bill_id, "paymentId": payment_id}
    )
    assert status == 200 and "errors" not in body
    assert body["data"]["billInquiry"]["service"] == service


@pytest.mark.parametrize("digit", [7, 0])
async def test_an_unassigned_service_digit_is_refused_though_its_check_digit_holds(
    gateway: RunningGateway, digit: int
) -> None:
    bill_id = _bill_id("4321", "765", digit)
    status, body = await gateway.query(
        BILL_INQUIRY, variables={"billId": bill_id, "paymentId": "123456"}
    )
    assert status == 200 and body["data"]["billInquiry"] is None
    [error] = body["errors"]
    assert (
        error["message"] == f"bill ID service digit (second-last) {digit} is assigned to no service"
    )
    assert error["extensions"] == {
        "code": "INVALID_INPUT",
        "retryable": False,
        "field": "billId",
        "messageFa": message_fa({"code": "INVALID_INPUT"}),
    }


@pytest.mark.parametrize(
    ("bill_id", "payment_id", "field"),
    [
        ("1234567" + "8", "123456", "billId"),  # check digit replaced below
        ("12", "123456", "billId"),
        ("abc", "123456", "billId"),
        ("VALID", "1000000", "paymentId"),
        ("VALID", "", "paymentId"),
    ],
)
async def test_invalid_ids_are_rejected_without_calling_anyone(
    gateway: RunningGateway, bill_id: str, payment_id: str, field: str
) -> None:
    valid = _bill_id("12345", "678", 2)
    if bill_id == "VALID":
        bill_id = valid
    elif len(bill_id) == 8:
        body_digits = bill_id[:-1]
        bill_id = body_digits + str((mod11_check_digit(body_digits) + 1) % 10)
    status, body = await gateway.query(
        BILL_INQUIRY, variables={"billId": bill_id, "paymentId": payment_id}
    )
    assert status == 200
    assert body["data"]["billInquiry"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["field"] == field
    assert sum(gateway.sandbox.calls(c.agency_id) for c in gateway.app[CONNECTORS]) == 0
