"""Jalali dates from agency payloads, and back for display."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.digits import to_persian_digits
from domain.jalali import format_jalali, parse_jalali_date, parse_jalali_datetime

# Anchors, by hand: 1403/01/01 (Nowruz) = 2024-03-20. Months 1-6 have 31 days, 7-11 have 30.
# 1403/05/02: Tir ends on 1403/04/31 = 2024-07-21, so Mordad 1 = 07-22 and Mordad 2 = 07-23.
# 1403/07/15: Shahrivar 1 = 2024-08-22, Mehr 1 = 08-22 + 31 days = 09-22, Mehr 15 = 10-06.
# 1403 is a leap year, so 1403/12/30 exists (= 2025-03-20, the day before Nowruz 1404); 1404 is
# not, so 1404/12/30 does not.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1403/07/15", datetime.date(2024, 10, 6)),
        ("1403-07-15", datetime.date(2024, 10, 6)),
        ("14030715", datetime.date(2024, 10, 6)),
        ("۱۴۰۳/۰۷/۱۵", datetime.date(2024, 10, 6)),  # Persian digits
        ("١٤٠٣/٠٧/١٥", datetime.date(2024, 10, 6)),  # Arabic-Indic digits
        ("1403/7/15", datetime.date(2024, 10, 6)),  # one-digit month, as some agencies send
        ("  1403/07/15\n", datetime.date(2024, 10, 6)),
        ("1403/01/01", datetime.date(2024, 3, 20)),
        ("1403/05/02", datetime.date(2024, 7, 23)),
        ("1403/12/30", datetime.date(2025, 3, 20)),
        ("1399/12/30", datetime.date(2021, 3, 20)),  # 1399 is a leap year too
    ],
)
def test_parse_jalali_date(text: str, expected: datetime.date) -> None:
    assert parse_jalali_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1403.07.15",  # unknown separator
        "1403/07-15",  # mixed separators
        "03/07/15",  # two-digit year
        "1403/007/15",
        "1403715",  # compact form needs eight digits
        "140307150",
        "1403/07/15 10:00",  # a time where only a date is expected
        "2024-10-06T00:00",
        "today",
    ],
)
def test_parse_jalali_date_rejects_other_shapes(text: str) -> None:
    with pytest.raises(ValueError, match="expected a Jalali date like 1403/07/15"):
        parse_jalali_date(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1403/13/01", "month must be in 1..12"),
        ("1403/00/10", "month must be in 1..12"),
        ("1403/07/31", "day is out of range for month"),  # Mehr has 30 days
        ("1403/07/00", "day is out of range for month"),
        ("1404/12/30", "day is out of range for month"),  # 1404 is not a leap year
        ("0000/01/01", "year is out of range"),
    ],
)
def test_parse_jalali_date_rejects_impossible_dates(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="is not a real Jalali date") as exc:
        parse_jalali_date(text)
    assert reason in str(exc.value)


def test_error_message_cuts_long_payloads_short() -> None:
    with pytest.raises(ValueError) as exc:
        parse_jalali_date("x" * 10_000)
    assert len(str(exc.value)) < 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1403/05/02 14:30", datetime.datetime(2024, 7, 23, 14, 30)),
        ("1403-05-02 14:30:15", datetime.datetime(2024, 7, 23, 14, 30, 15)),
        ("1403-05-02T14:30", datetime.datetime(2024, 7, 23, 14, 30)),
        ("14030502 9:05", datetime.datetime(2024, 7, 23, 9, 5)),
        ("۱۴۰۳/۰۵/۰۲ ۱۴:۳۰", datetime.datetime(2024, 7, 23, 14, 30)),
        ("1403/05/02", datetime.datetime(2024, 7, 23, 0, 0)),  # no time: midnight
        ("1403/05/02 00:00", datetime.datetime(2024, 7, 23, 0, 0)),
        ("1403/05/02 23:59:59", datetime.datetime(2024, 7, 23, 23, 59, 59)),
    ],
)
def test_parse_jalali_datetime(text: str, expected: datetime.datetime) -> None:
    parsed = parse_jalali_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is None  # naive Tehran wall-clock time


@pytest.mark.parametrize(
    "text", ["", "1403/05/02 14", "1403/05/02 14:3", "1403/05/02 14:30 IRST", "14:30"]
)
def test_parse_jalali_datetime_rejects_other_shapes(text: str) -> None:
    with pytest.raises(ValueError, match="expected a Jalali date-time like 1403/05/02 14:30"):
        parse_jalali_datetime(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("1403/05/02 24:00", "hour must be in 0..23"), ("1403/05/02 14:60", "minute")],
)
def test_parse_jalali_datetime_rejects_impossible_times(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="impossible time of day") as exc:
        parse_jalali_datetime(text)
    assert reason in str(exc.value)


def test_parse_jalali_datetime_rejects_impossible_dates() -> None:
    with pytest.raises(ValueError, match="is not a real Jalali date"):
        parse_jalali_datetime("1403/07/31 10:00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.date(2024, 10, 6), "1403/07/15"),
        (datetime.date(2024, 3, 20), "1403/01/01"),
        (datetime.date(2025, 3, 20), "1403/12/30"),
        (datetime.datetime(2024, 7, 23, 14, 30), "1403/05/02"),  # a datetime formats its date
    ],
)
def test_format_jalali(value: datetime.date, expected: str) -> None:
    assert format_jalali(value) == expected


def test_format_jalali_before_the_jalali_epoch() -> None:
    with pytest.raises(ValueError):
        format_jalali(datetime.date(600, 1, 1))


_DATES = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2200, 12, 31))


@given(_DATES)
def test_format_then_parse_round_trips(d: datetime.date) -> None:
    text = format_jalali(d)
    assert parse_jalali_date(text) == d
    assert parse_jalali_date(to_persian_digits(text)) == d
    assert parse_jalali_date(text.replace("/", "")) == d
    assert parse_jalali_date(text.replace("/", "-")) == d


@given(_DATES)
def test_parse_then_format_round_trips(d: datetime.date) -> None:
    text = format_jalali(d)
    assert format_jalali(parse_jalali_date(text)) == text


@given(_DATES, st.times().map(lambda t: t.replace(microsecond=0)))
def test_datetime_round_trips(d: datetime.date, t: datetime.time) -> None:
    text = f"{format_jalali(d)} {t:%H:%M:%S}"
    assert parse_jalali_datetime(text) == datetime.datetime.combine(d, t)
