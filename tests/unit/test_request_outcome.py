"""The outcome class of a GraphQL request (`panjereh_graphql_requests_total{outcome}`), judged
from the shaped errors' codes and whether anything answered: what the gateway's error ratio
(GatewayErrorsHigh) counts, and what it leaves out."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError

from observability.request_outcome import RequestOutcome, classify

NOTHING = {"me": {"profile": None}}
SOMETHING = {"me": {"profile": None, "bills": {"totalAmount": 0}}}


def _error(code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError("x", extensions={"code": code, **extensions})


@pytest.mark.parametrize(
    "codes, data, outcome",
    [
        ([], SOMETHING, RequestOutcome.OK),
        (["NOT_FOUND"], NOTHING, RequestOutcome.OK),
        # an agency in its window, and nothing else failed: not the gateway's failure
        (["AGENCY_MAINTENANCE"], NOTHING, RequestOutcome.MAINTENANCE),
        (["AGENCY_MAINTENANCE", "AGENCY_MAINTENANCE"], None, RequestOutcome.MAINTENANCE),
        (["AGENCY_MAINTENANCE", "NOT_FOUND"], NOTHING, RequestOutcome.MAINTENANCE),
        # beside an answer it is a part that failed, like any agency's
        (["AGENCY_MAINTENANCE"], SOMETHING, RequestOutcome.PARTIAL),
        # a real failure beside it is still an error
        (["AGENCY_MAINTENANCE", "AGENCY_UNAVAILABLE"], NOTHING, RequestOutcome.ERROR),
        (["AGENCY_MAINTENANCE", "INTERNAL"], None, RequestOutcome.ERROR),
        (["AGENCY_UNAVAILABLE"], NOTHING, RequestOutcome.ERROR),
        (["AGENCY_UNAVAILABLE"], SOMETHING, RequestOutcome.PARTIAL),
        (["UNAUTHENTICATED"], NOTHING, RequestOutcome.CLIENT_ERROR),
        (["RATE_LIMITED"], None, RequestOutcome.CLIENT_ERROR),
    ],
)
def test_outcome_of_a_result(codes: list[str], data: Any, outcome: RequestOutcome) -> None:
    assert classify([_error(code) for code in codes], data) is outcome


def test_an_agencys_429_is_its_failure_not_the_callers() -> None:
    assert classify([_error("RATE_LIMITED", agency="tax")], NOTHING) is RequestOutcome.ERROR
