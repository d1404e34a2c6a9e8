"""The purpose rule: printable, 3–200 characters, no identifiers (DESIGN §7, audit findings)."""

from __future__ import annotations

import time

import pytest

from domain.errors import InvalidInput
from domain.purpose import validate_purpose

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
NATIONAL_CODE = "0012345679"


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("loan review", "loan review"),
        ("  بررسی   درخواست وام  ", "بررسی درخواست وام"),
        ("می\u200cخواهم پرونده را ببینم", "می\u200cخواهم پرونده را ببینم"),  # ZWNJ between letters
        ("hearing on 1403/07/15, case 98/1234", "hearing on 1403/07/15, case 98/1234"),
        ("e\u0301tude", "\u00e9tude"),  # NFC
        ("abc", "abc"),
        ("x" * 200, "x" * 200),
    ],
)
def test_valid_purposes_are_kept_normalised(raw: str, kept: str) -> None:
    assert validate_purpose(raw) == kept


@pytest.mark.parametrize(
    "raw",
    [
        "\u200b\u200b\u200b",  # three zero-width spaces (the finding)
        "ab\u200b",
        "\x00\x00\x00",  # NUL bytes (the finding)
        "loan\x00review",
        "loan \u202ereview",  # right-to-left override
        "loan \u2066review\u2069",  # bidi isolates
        "\ufeffloan",
        "loan\nreview",
        "loan\u2028review",
        "   ",
        "",
        "ab",
        " a ",
        "\u200c\u200c\u200c",
        "x" * 201,
    ],
)
def test_invisible_control_short_or_long_purposes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_purpose(raw)
    assert caught.value.field == "purpose"


def test_a_megabyte_is_refused_at_once() -> None:
    raw = "a" * 1_000_000
    started = time.perf_counter()
    with pytest.raises(InvalidInput):
        validate_purpose(raw)
    assert time.perf_counter() - started < 0.5
    with pytest.raises(InvalidInput):
        validate_purpose("\u200b" * 1_000_000)


@pytest.mark.parametrize(
    "raw",
    [
        f"check {NATIONAL_CODE}",
        f"check {NATIONAL_CODE.translate(PERSIAN)}",
        f"check {NATIONAL_CODE.translate(ARABIC)}",
        "check ۰۰۱-۲۳۴۵۶۷-۹",  # grouped with dashes, Persian digits
        "check 001 234 5679",
        "check 12345679",  # 8 digits: a national code with its leading zeros lost
        "call 09121234567",
        "call ۰۹۱۲۱۲۳۴۵۶۷",
        "call +98 912 123 4567",
        "card 6037-9911-2345-6789",
        "sheba IR062960000000100324200001",
        "postal 1193653471",
        "ref 1234567890123",
        "full\uff10\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff19",  # full-width digits
    ],
)
def test_identifiers_in_a_purpose_are_refused_without_echoing_them(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_purpose(raw)
    assert caught.value.field == "purpose"
    assert "0012345679" not in caught.value.message
    assert "1234" not in caught.value.message


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        ("check 001,234,5679", "national code"),  # the review's findings
        ("check 0012/345/679", "national code"),
        ("check 001.234.5679", "national code"),
        ("check 0012_345_679", "national code"),
        ("check ۰۰۱،۲۳۴،۵۶۷۹", "national code"),  # Persian comma between Persian digits
        ("check ۰۰۱٫۲۳۴٫۵۶۷۹", "national code"),  # Persian decimal mark
        ("check ٠٠١٬٢٣٤٬٥٦٧٩", "national code"),  # Arabic thousands separator
        ("check 001 / 234 / 5679", "national code"),
        ("check (001) 234:5679", "national code"),
        ("check 12,345,679", "national code"),  # 8 digits: leading zeros lost
        ("room 5, 12345679", "national code"),  # a group on its own is tested too
        ("call 0912.123.4567", "mobile number"),
        ("call 0912/123/4567", "mobile number"),
        ("call ۰۹۱۲،۱۲۳،۴۵۶۷", "mobile number"),
        ("card 6037,9911,2345,6789", "long numbers"),
        ("card 6037 9911/2345.6789", "long numbers"),
        ("postal 11936/53471", "long numbers"),
    ],
)
def test_identifiers_split_by_any_separator_are_refused(raw: str, what: str) -> None:
    with pytest.raises(InvalidInput, match=what) as caught:
        validate_purpose(raw)
    assert "5679" not in caught.value.message and "4567" not in caught.value.message


@pytest.mark.parametrize(
    "raw",
    [
        "hearing on 1403/07/15",
        "hearing on 1399/01/01",  # its eight digits pass a national code's check: still a date
        "hearing on ۱۳۹۹/۰۱/۰۱",
        "hearing on 1399-01-01",
        "hearing on 1399.1.1",
        "hearing on 01/01/1399",
        "from 1403/07/15 - 1403/08/01",  # two dates side by side are not one long number
        "from 1403/07/15, 2024/10/06",
        "پرونده ۱۲",
        "پرونده ۱۲، جلسه ۳",
        "case 98/1234, hearing 1403/07/15",
        "loan of 1,500,000 rials",
        "at 10:30 on 1403/7/5",
        "کلاسه ۹۸/۱۲۳۴ مورخ ۱۴۰۳/۰۷/۱۵",
    ],
)
def test_dates_and_short_case_numbers_pass(raw: str) -> None:
    assert validate_purpose(raw) == raw


def test_a_ten_digit_run_failing_the_check_is_still_a_long_number() -> None:
    with pytest.raises(InvalidInput, match="long numbers"):
        validate_purpose("ref 0012345670")


def test_a_non_string_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        validate_purpose(12345)
