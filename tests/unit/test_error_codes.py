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
