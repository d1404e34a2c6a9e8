"""Every class of the error tree maps to a contract code; unknown errors are INTERNAL."""

from __future__ import annotations

import inspect

import pytest

from domain import errors as e
from schema.error_codes import INTERNAL, code_for, error_extensions

CONTRACT_CODES = {
    "AGENCY_UNAVAILABLE",
    "AGENCY_TIMEOUT",
    "AGENCY_BAD_RESPONSE",
    "CIRCUIT_OPEN",
    "AGENCY_MAINTENANCE",
    "NOT_FOUND",
    "INVALID_INPUT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "RATE_LIMITED",
    "QUERY_TOO_COMPLEX",
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_NOT_SUPPORTED",
    "PERSISTED_QUERY_NOT_IN_LIST",
    "BAD_REQUEST",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
}

ERROR_CLASSES = [
    cls
    for _, cls in inspect.getmembers(e, inspect.isclass)
    if issubclass(cls, e.PanjerehError) and cls is not e.PanjerehError and cls is not e.AgencyError
]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_has_a_contract_code(cls: type[e.PanjerehError]) -> None:
    assert code_for(cls) in CONTRACT_CODES


def test_every_contract_code_has_an_error_class() -> None:
    assert {code_for(cls) for cls in ERROR_CLASSES} == CONTRACT_CODES


def test_subclass_inherits_its_parents_code() -> None:
    class MaintenanceWindow(e.AgencyUnavailable):
        pass

    assert code_for(MaintenanceWindow) == "AGENCY_UNAVAILABLE"


def test_foreign_exceptions_are_internal() -> None:
    assert code_for(KeyError) == INTERNAL


def test_agency_extensions_carry_agency_retryable_and_retry_after() -> None:
    exc = e.AgencyRateLimited("water", "water is limiting requests", retry_after=1.2)
    assert error_extensions(exc) == {
        "code": "RATE_LIMITED",
        "retryable": True,
        "agency": "water",
        "agencyNameFa": "آب و فاضلاب",
        "agencyNameEn": "Water and Wastewater",
        "retryAfterSeconds": 2,
        "messageFa": "سامانه آب و فاضلاب اکنون بیش از توان خود درخواست دارد؛ "
        "۲ ثانیه دیگر دوباره تلاش کنید",
    }


def test_invalid_input_names_the_field_and_is_not_retryable() -> None:
    exc = e.InvalidInput("billId", "bill ID check digit does not match")
    assert error_extensions(exc) == {
        "code": "INVALID_INPUT",
        "retryable": False,
        "field": "billId",
        "messageFa": "مقدار واردشده درست نیست؛ آن را بررسی کنید و دوباره بفرستید",
    }


def test_an_agency_no_connector_has_is_named_by_nobody() -> None:
    extensions = error_extensions(e.AgencyUnavailable("nowhere", "x"))
    assert "agencyNameFa" not in extensions and "agencyNameEn" not in extensions
    assert extensions["messageFa"] == (
        "سامانه مورد نیاز موقتاً در دسترس نیست؛ کمی بعد دوباره تلاش کنید"
    )


def test_bad_response_is_not_retryable_but_unavailable_is() -> None:
    assert error_extensions(e.AgencyBadResponse("tax", "x"))["retryable"] is False
    assert error_extensions(e.AgencyTimeout("tax", "x"))["retryable"] is True


def test_maintenance_says_when_the_agency_is_expected_back() -> None:
    back_at = 1_728_253_800.0  # 2024-10-06T22:30:00Z, 02:00 in Tehran on 1403/07/16
    exc = e.AgencyInMaintenance("water", back_at, now=back_at - 5400.5)
    assert isinstance(exc, e.AgencyUnavailable)
    assert error_extensions(exc) == {
        "code": "AGENCY_MAINTENANCE",
        "retryable": True,
        "agency": "water",
        "agencyNameFa": "آب و فاضلاب",
        "agencyNameEn": "Water and Wastewater",
        "expectedBackAt": "2024-10-07T02:00:00+03:30",
        "retryAfterSeconds": 5401,
        "messageFa": "سامانه آب و فاضلاب تا ۱۴۰۳/۰۷/۱۶ ساعت ۰۲:۰۰ در دست تعمیر است",
    }
    assert "02:00 Tehran time on 1403/07/16" in exc.message
    assert "2024-10-07T02:00:00+03:30" in exc.message
