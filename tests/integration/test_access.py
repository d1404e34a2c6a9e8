"""Who may read what, and invalid input that never reaches an agency."""

from __future__ import annotations

from sandbox import PERSONAS, person_for
from server import CONNECTORS
from tests.integration.queries import CITIZEN, PROFILE
from tests.support.gateway import RunningGateway

COMPLETE, SPARSE = PERSONAS["complete"], PERSONAS["sparse"]
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

OTHER = """query($nc: String!, $purpose: String!) {
  citizen(nationalCode: $nc, purpose: $purpose) { nationalCode profile { firstName } } }"""


async def test_me_without_a_token_is_unauthenticated(gateway: RunningGateway) -> None:
    status, body = await gateway.query(PROFILE)
    assert status == 200
    assert body["data"] == {"me": None}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_bad_token_is_refused_with_401(gateway: RunningGateway) -> None:
    status, body = await gateway.query(PROFILE, token="not-a-token")
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_citizen_cannot_read_another_citizen(gateway: RunningGateway) -> None:
    _, body = await gateway.query(
        OTHER, token=gateway.token(COMPLETE), variables={"nc": SPARSE, "purpose": "curious"}
    )
    assert body["data"]["citizen"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert gateway.sandbox.calls("civil-registry") == 0


async def test_a_service_reads_a_citizen_given_in_persian_or_arabic_digits(
    gateway: RunningGateway,
) -> None:
    token = gateway.service_token("caseworker-app", ["citizen:read"])
    for digits in (PERSIAN, ARABIC):
        status, body = await gateway.query(
            OTHER, token=token, variables={"nc": COMPLETE.translate(digits), "purpose": "loan"}
        )
        assert status == 200 and "errors" not in body
        assert body["data"]["citizen"]["nationalCode"] == COMPLETE
        assert body["data"]["citizen"]["profile"]["firstName"] == person_for(COMPLETE).first_name


async def test_a_service_without_the_scope_is_forbidden(gateway: RunningGateway) -> None:
    token = gateway.service_token("dashboard", ["ops"])
    _, body = await gateway.query(OTHER, token=token, variables={"nc": COMPLETE, "purpose": "x y"})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_invalid_national_code_is_rejected_before_any_agency_call(
    gateway: RunningGateway,
) -> None:
    token = gateway.service_token("caseworker-app", ["citizen:read"])
    for bad in ("0012345670", "1111111111", "12ab", "۰۰۱۲۳۴۵۶۷۰", ""):
        _, body = await gateway.query(
            CITIZEN, token=token, variables={"nc": bad, "purpose": "audit", "mobile": "09121234567"}
        )
        assert body["data"]["citizen"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "INVALID_INPUT"
        assert error["extensions"]["field"] == "nationalCode"
    assert sum(gateway.sandbox.calls(a) for a in _agencies(gateway)) == 0


async def test_a_missing_purpose_is_invalid_input(gateway: RunningGateway) -> None:
    token = gateway.service_token("caseworker-app", ["citizen:read"])
    _, body = await gateway.query(OTHER, token=token, variables={"nc": COMPLETE, "purpose": " "})
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID_INPUT", "retryable": False, "field": "purpose",
        "messageFa": "مقدار واردشده درست نیست؛ آن را بررسی کنید و دوباره بفرستید",
    }  # fmt: skip


async def test_an_invalid_mobile_fails_only_the_mobile_check(gateway: RunningGateway) -> None:
    query = '{ me { profile { firstName } mobileCheck(mobile: "0812") { matches } } }'
    _, body = await gateway.query(query, token=gateway.token(COMPLETE))
    assert body["data"]["me"]["profile"]["firstName"]
    assert body["data"]["me"]["mobileCheck"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert gateway.sandbox.calls("shahkar") == 0


async def test_mobile_of_someone_else_does_not_match(gateway: RunningGateway) -> None:
    query = '{ me { mobileCheck(mobile: "۰۹۳۵۱۱۱۲۲۳۳") { mobile result matches } } }'
    _, body = await gateway.query(query, token=gateway.token(COMPLETE))
    check = body["data"]["me"]["mobileCheck"]
    assert check["mobile"] == "09351112233"
    assert check["matches"] is False and check["result"] in {"MISMATCH", "NOT_REGISTERED"}


def _agencies(gateway: RunningGateway) -> list[str]:
    return [c.agency_id for c in gateway.app[CONNECTORS]]


async def test_a_query_cannot_fan_out_into_hundreds_of_agency_calls(
    gateway: RunningGateway,
) -> None:
    checks = " ".join(f'm{i}: mobileCheck(mobile: "0912{i:07d}") {{ matches }}' for i in range(100))
    _, body = await gateway.query(f"{{ me {{ {checks} }} }}", token=gateway.token(COMPLETE))
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"QUERY_TOO_COMPLEX"}
    assert gateway.sandbox.calls("shahkar") <= 64
