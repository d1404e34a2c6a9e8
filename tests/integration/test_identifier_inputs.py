"""Identifiers at the GraphQL boundary, over real HTTP: shebaInquiry, numbers pasted from a phone,
and values of the wrong JSON type, each refused as INVALID_INPUT before any agency is called."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import PERSONAS
from schema.error_codes import message_fa
from server import CONNECTORS
from tests.support.gateway import RunningGateway

COMPLETE = PERSONAS["complete"]  # mobile 09121234567
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

SHEBA_INQUIRY = """
query Sheba($sheba: String!) {
  shebaInquiry(sheba: $sheba) { sheba formatted bankCode bank { code nameFa nameEn } }
}
"""
MOBILE_CHECK = """
query Mobile($mobile: String!) { me { mobileCheck(mobile: $mobile) { mobile result matches } } }
"""


def sheba_for(bban: str) -> str:
    """ISO 7064 MOD 97-10 check digits for an Iranian BBAN, written from the standard."""
    return f"IR{98 - int(bban + '182700') % 97:02d}{bban}"


MELLI = sheba_for("0170000000" + "123456789012")
MELLAT = sheba_for("0120000000" + "000004321987")
UNKNOWN_BANK = "IR062960000000100324200001"  # valid check digits, code 296 is no bank's


def agency_calls(gateway: RunningGateway) -> int:
    return sum(gateway.sandbox.calls(c.agency_id) for c in gateway.app[CONNECTORS])


async def test_a_sheba_is_checked_and_its_bank_named_without_a_token_or_an_agency(
    gateway: RunningGateway,
) -> None:
    pasted = "\u202a" + " ".join(MELLI[i : i + 4] for i in range(0, 26, 4)).translate(PERSIAN)
    status, body = await gateway.query(SHEBA_INQUIRY, variables={"sheba": pasted + "\u202c"})
    assert status == 200 and "errors" not in body
    assert body["data"]["shebaInquiry"] == {
        "sheba": MELLI,
        "formatted": " ".join(MELLI[i : i + 4] for i in range(0, 26, 4)),
        "bankCode": "017",
        "bank": {"code": "017", "nameFa": "بانک ملی ایران", "nameEn": "Bank Melli Iran"},
    }
    _, body = await gateway.query(SHEBA_INQUIRY, variables={"sheba": MELLAT.lower()})
    assert body["data"]["shebaInquiry"]["bank"]["nameFa"] == "بانک ملت"
    assert agency_calls(gateway) == 0


async def test_a_valid_sheba_of_a_code_no_bank_has_is_valid_without_a_bank(
    gateway: RunningGateway,
) -> None:
    _, body = await gateway.query(SHEBA_INQUIRY, variables={"sheba": UNKNOWN_BANK})
    assert body["data"]["shebaInquiry"]["bankCode"] == "296"
    assert body["data"]["shebaInquiry"]["bank"] is None
    assert "errors" not in body


@pytest.mark.parametrize(
    ("sheba", "message"),
    [
        (MELLI[:4] + MELLI[5] + MELLI[4] + MELLI[6:], "sheba check digits do not match"),
        (MELLI[:-1] + str((int(MELLI[-1]) + 1) % 10), "sheba check digits do not match"),
        (MELLI[2:], "sheba must start with IR"),
        ("IR12", "sheba must have 24 digits after IR"),
        ("-", "sheba must start with IR"),
        ("\u200f ", "sheba is required"),
    ],
)
async def test_an_invalid_sheba_is_invalid_input(
    gateway: RunningGateway, sheba: str, message: str
) -> None:
    assert MELLI[4] != MELLI[5]  # the first case swaps two different digits
    status, body = await gateway.query(SHEBA_INQUIRY, variables={"sheba": sheba})
    assert status == 200 and body["data"] == {"shebaInquiry": None}
    [error] = body["errors"]
    assert error["message"] == message
    assert error["extensions"] == {
        "code": "INVALID_INPUT",
        "retryable": False,
        "field": "sheba",
        "messageFa": message_fa({"code": "INVALID_INPUT"}),
    }


@pytest.mark.parametrize(
    "mobile",
    [
        "\u202a+98 912 123 4567\u202c",  # a contact card's number, copied with its LRE … PDF
        "+98 ９１２ １２３ ４５６７",  # full-width digits
        "98 0912 123 4567",  # 98 and the trunk 0, read like +98 0912
        "\u200e۰۹۱۲-۱۲۳-۴۵۶۷\u200f",
    ],
)
async def test_a_mobile_copied_from_a_phone_is_checked_with_shahkar(
    gateway: RunningGateway, mobile: str
) -> None:
    status, body = await gateway.query(
        MOBILE_CHECK, token=gateway.token(COMPLETE), variables={"mobile": mobile}
    )
    assert status == 200 and "errors" not in body
    assert body["data"]["me"]["mobileCheck"] == {
        "mobile": "09121234567",
        "result": "MATCH",
        "matches": True,
    }
    assert gateway.sandbox.calls("shahkar") == 1


async def test_a_lone_dash_is_an_invalid_mobile_not_a_missing_one(gateway: RunningGateway) -> None:
    _, body = await gateway.query(
        MOBILE_CHECK, token=gateway.token(COMPLETE), variables={"mobile": "-"}
    )
    [error] = body["errors"]
    assert error["message"] == "mobile must be 09 followed by 9 digits"
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert gateway.sandbox.calls("shahkar") == 0


# --- values of the wrong JSON type ----------------------------------------------------------------

BILL_INQUIRY = """
query Bill($billId: String!, $paymentId: String!) {
  billInquiry(billId: $billId, paymentId: $paymentId) { amount }
}
"""
CITIZEN = """
query Citizen($nc: String!) { citizen(nationalCode: $nc, purpose: "tax audit") { nationalCode } }
"""
OPERATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "sheba": (SHEBA_INQUIRY, {}),
    "mobile": (MOBILE_CHECK, {}),
    "billId": (BILL_INQUIRY, {"paymentId": "123456"}),
    "paymentId": (BILL_INQUIRY, {"billId": "1234567817"}),
    "nc": (CITIZEN, {}),
}
NOT_TEXT = [12345679, 9121234567, 1.5, True, None, ["0912"], {"sheba": "IR"}, []]


async def _refused_as_invalid_input(
    gateway: RunningGateway, variable: str, value: Any
) -> dict[str, Any]:
    query, others = OPERATIONS[variable]
    token = {
        "mobile": gateway.token(COMPLETE),
        "nc": gateway.service_token("caseworker-app", ["citizen:read"]),
    }.get(variable)
    status, body = await gateway.query(query, token=token, variables={**others, variable: value})
    assert status == 200 and body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "INVALID_INPUT",
        "retryable": False,
        "field": variable,
        "messageFa": message_fa({"code": "INVALID_INPUT"}),
    }
    assert error["message"].startswith(f"variable ${variable} needs a value of type String!")
    assert json.dumps(value) not in error["message"] or value in (True, None, [])
    return error


@pytest.mark.parametrize("variable", list(OPERATIONS))
@pytest.mark.parametrize("value", NOT_TEXT, ids=repr)
async def test_a_value_that_is_not_a_string_is_invalid_input(
    gateway: RunningGateway, variable: str, value: Any
) -> None:
    await _refused_as_invalid_input(gateway, variable, value)
    assert agency_calls(gateway) == 0


async def test_a_missing_variable_is_invalid_input(gateway: RunningGateway) -> None:
    status, body = await gateway.query(SHEBA_INQUIRY)
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "sheba"


async def test_a_wrong_literal_in_the_document_stays_a_validation_failure(
    gateway: RunningGateway,
) -> None:
    """Written into the query text, a number where a String goes is the query author's bug,
    refused while validating the document, before any variable is read."""
    status, body = await gateway.query("{ shebaInquiry(sheba: 17) { bankCode } }")
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=JSON_VALUES)
async def test_any_json_value_for_an_identifier_is_an_answer_or_invalid_input(
    gateway: RunningGateway, value: Any
) -> None:
    """One gateway for every example: what is sent never reaches an agency and never gives
    anything but a decoded Sheba or INVALID_INPUT."""
    status, body = await gateway.query(SHEBA_INQUIRY, variables={"sheba": value})
    assert status == 200
    if body.get("errors"):
        assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"]
    else:
        assert body["data"]["shebaInquiry"]["sheba"].startswith("IR")
    assert agency_calls(gateway) == 0
