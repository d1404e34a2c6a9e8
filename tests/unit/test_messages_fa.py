"""The Persian sentences of errors: durations in words, Persian digits, Tehran's clock, one
template per code, and every sentence in Persian script."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from connectors.registry import AGENCY_IDS
from domain import errors as e
from schema.error_codes import INTERNAL, MESSAGES_FA, code_for, error_extensions, message_fa
from schema.messages_fa import clock_fa, duration_fa, render
from tests.unit.test_error_codes import ERROR_CLASSES

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # 11:30 in Tehran (+03:30)
PERSIAN_ONLY = re.compile(r"^[\u0600-\u06FF\u200c ()؛:/]+$")
"""Arabic-script letters and Persian digits, ZWNJ, spaces and the punctuation the templates use:
no Latin letter and no ASCII digit."""


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "۱ ثانیه"),
        (45, "۴۵ ثانیه"),
        (59.9, "۵۹ ثانیه"),
        (60, "۱ دقیقه"),
        (90, "۱ دقیقه و ۳۰ ثانیه"),
        (5 * 60 + 40, "۵ دقیقه"),
        (3_600, "۱ ساعت"),
        (4_800, "۱ ساعت و ۲۰ دقیقه"),
        (3 * 3_600 + 59 * 60, "۳ ساعت"),
        (86_400 * 1.5, "۱ روز و ۱۲ ساعت"),
        (86_400 * 12 + 3_600, "۱۲ روز"),
    ],
)
def test_an_age_is_said_in_words_rounded_down(seconds: float, words: str) -> None:
    assert duration_fa(seconds) == words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.2, "۱ ثانیه"),
        (30, "۳۰ ثانیه"),
        (59.5, "۱ دقیقه"),
        (290, "۵ دقیقه"),
        (3_570, "۱ ساعت"),
        (3 * 3_600 + 1, "۴ ساعت"),
    ],
)
def test_a_wait_is_rounded_up_so_the_client_is_never_early(seconds: float, words: str) -> None:
    assert duration_fa(seconds, round_up=True) == words


def test_times_of_day_are_on_tehrans_clock_in_persian_digits() -> None:
    assert clock_fa(dt.datetime(2026, 3, 10, 9, 5, tzinfo=UTC), NOW) == "ساعت ۱۲:۳۵"
    assert clock_fa(dt.datetime(2026, 3, 10, 22, 30, tzinfo=UTC), NOW) == "فردا ساعت ۰۲:۰۰"
    assert clock_fa(dt.datetime(2026, 3, 13, 22, 30, tzinfo=UTC), NOW) == ("۱۴۰۴/۱۲/۲۳ ساعت ۰۲:۰۰")


def test_a_clause_takes_its_first_alternative_whose_slots_are_known() -> None:
    template = (("سامانه {agency}", "سامانه"), ("{age} پیش", "{retry} دیگر"), ("{level}",))
    assert render(template, {"agency": "الف", "retry": "۲ دقیقه"}) == "سامانه الف؛ ۲ دقیقه دیگر"
    assert render(template, {"age": "۳ ساعت"}) == "سامانه؛ ۳ ساعت پیش"


def test_an_agency_down_with_a_stale_copy_says_how_old_the_copy_is() -> None:
    exc = e.AgencyUnavailable("tax", "tax answered with a server error (503)")
    extensions = error_extensions(exc, stale_age_s=3 * 3_600 + 125)
    assert extensions["messageFa"] == (
        "سامانه سازمان امور مالیاتی موقتاً در دسترس نیست؛ اطلاعات ۳ ساعت پیش نمایش داده می‌شود"
    )
    assert extensions["agencyNameFa"] == "سازمان امور مالیاتی"
    assert extensions["agencyNameEn"] == "National Tax Administration"


def test_a_wait_before_trying_again_comes_from_retry_after() -> None:
    exc = e.RateLimited("too many requests", retry_after=299.2)
    assert error_extensions(exc)["messageFa"] == (
        "تعداد درخواست‌های شما از حد مجاز گذشته است؛ ۵ دقیقه دیگر دوباره تلاش کنید"
    )


def test_maintenance_says_until_when_on_tehrans_clock() -> None:
    extensions = {
        "code": "AGENCY_MAINTENANCE",
        "agency": "judiciary",
        "expectedBackAt": "2026-03-10T22:30:00+00:00",
    }
    assert (
        message_fa(extensions, now=NOW) == "سامانه قوه قضاییه تا فردا ساعت ۰۲:۰۰ در دست تعمیر است"
    )
    tonight = {**extensions, "expectedBackAt": dt.datetime(2026, 3, 10, 18, 30, tzinfo=UTC)}
    assert message_fa(tonight, now=NOW) == "سامانه قوه قضاییه تا ساعت ۲۲:۰۰ در دست تعمیر است"
    unknown_time = {**extensions, "expectedBackAt": "soon"}
    assert message_fa(unknown_time, now=NOW) == "سامانه قوه قضاییه در دست تعمیر است"


def test_a_level_too_low_names_the_level_needed() -> None:
    assert error_extensions(e.InsufficientLevel(3, 1))["messageFa"] == (
        "برای دیدن این اطلاعات باید با روشی مطمئن‌تر (سطح ۳) وارد شوید"
    )


def test_an_unknown_code_reads_as_internal() -> None:
    assert message_fa({"code": "NO_SUCH_CODE"}) == message_fa({"code": INTERNAL})


def test_every_code_the_gateway_gives_has_its_own_template() -> None:
    codes = {code_for(cls) for cls in ERROR_CLASSES} | {INTERNAL}
    assert codes == set(MESSAGES_FA)


@pytest.mark.parametrize("code", sorted(MESSAGES_FA))
@pytest.mark.parametrize("agency", [None, "tax", "not-an-agency"])
def test_every_sentence_is_in_persian_script(code: str, agency: str | None) -> None:
    bare: dict[str, object] = {"code": code}
    full: dict[str, object] = {
        "code": code,
        "retryAfterSeconds": 125,
        "requiredLevel": 3,
        "expectedBackAt": "2026-03-10T22:30:00Z",
    }
    if agency is not None:
        bare["agency"] = full["agency"] = agency
    for extensions, age in ((bare, None), (full, None), (full, 7_200.0)):
        sentence = message_fa(extensions, stale_age_s=age, now=NOW)
        assert sentence and PERSIAN_ONLY.match(sentence), sentence
        assert "{" not in sentence


def test_every_agency_has_a_persian_name_for_the_sentences() -> None:
    for agency in AGENCY_IDS:
        sentence = message_fa({"code": "AGENCY_UNAVAILABLE", "agency": agency})
        assert PERSIAN_ONLY.match(sentence) and "مورد نیاز" not in sentence, agency
