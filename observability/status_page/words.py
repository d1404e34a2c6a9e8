"""What the status page says, in Persian and in English: words, numbers, times and durations.

Every figure a reader sees goes through one `Words`: Persian pages get Persian digits (۰–۹),
the Persian decimal separator and percent sign, Jalali dates; English pages Latin digits and
Gregorian dates. Every time is Tehran wall-clock time, as the agencies announce their windows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

import jdatetime

from domain.digits import to_persian_digits
from observability.agency_health.model import AgencyState, Failure

__all__ = ["ENGLISH", "PERSIAN", "TEHRAN", "Lang", "Words", "words_for"]

Lang = Literal["fa", "en"]
TEHRAN = ZoneInfo("Asia/Tehran")

_GREGORIAN_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


@dataclass(frozen=True)
class Words:
    """One language's vocabulary and number, date and duration formats."""

    lang: Lang
    direction: Literal["rtl", "ltr"]
    text: Mapping[str, str]
    """Fixed sentences of the page, by key (see `_PERSIAN_TEXT`)."""
    states: Mapping[AgencyState, str]
    failures: Mapping[Failure, str]
    units: Mapping[str, str]  # minute, hour, day and their joiner
    decimal: str
    percent: str

    def number(self, text: object) -> str:
        """Any text with digits in it, in this language's digits."""
        shown = str(text)
        return to_persian_digits(shown) if self.lang == "fa" else shown

    def ratio(self, ratio: float | None) -> str:
        """99.95 % style, rounded down so that a single failure never shows as 100 %."""
        if ratio is None:
            return self.text["no_data"]
        hundredths = math.floor(max(0.0, min(1.0, ratio)) * 10_000)
        whole, frac = divmod(hundredths, 100)
        shown = str(whole) if frac == 0 else f"{whole}{self.decimal}{frac:02d}".rstrip("0")
        return self.number(shown) + self.percent

    def milliseconds(self, seconds: float | None) -> str:
        if seconds is None:
            return self.text["no_data"]
        return self.number(round(seconds * 1000)) + " " + self.units["ms"]

    def duration(self, seconds: float) -> str:
        """Minutes, hours and days in the two largest units: "1 h 5 min", "2 d 3 h"."""
        minutes = int(max(0.0, seconds) // 60)
        if minutes == 0:
            return self.text["under_a_minute"]
        days, rest = divmod(minutes, 24 * 60)
        hours, minutes = divmod(rest, 60)
        parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
        shown = [f"{self.number(n)} {self.units[unit]}" for n, unit in parts if n][:2]
        return self.units["and"].join(shown)

    def clock(self, at: float) -> str:
        """Tehran wall-clock time, "09:05"."""
        return self.number(_tehran(at).strftime("%H:%M"))

    def day(self, at: float) -> str:
        """The Tehran calendar day: "۹ آذر" in Persian (Jalali), "30 Nov" in English."""
        local = _tehran(at)
        if self.lang == "fa":
            j = jdatetime.date.fromgregorian(date=local.date())
            return f"{self.number(j.day)} {jdatetime.date.j_months_fa[j.month - 1]}"
        return f"{local.day} {_GREGORIAN_MONTHS[local.month - 1]}"

    def date(self, at: float) -> str:
        """The day with its year: "۹ آذر ۱۴۰۵", "30 Nov 2026"."""
        local = _tehran(at).date()
        year = jdatetime.date.fromgregorian(date=local).year if self.lang == "fa" else local.year
        return f"{self.day(at)} {self.number(year)}"

    def moment(self, at: float) -> str:
        """Date and time: "۹ آذر ۱۴۰۵، ۰۹:۰۵", "30 Nov 2026, 09:05"."""
        return f"{self.date(at)}{self.text['comma']} {self.clock(at)}"

    def span(self, starts_at: float, ends_at: float) -> str:
        """A window from one moment to another; the day is said once if it does not change."""
        until = self.clock(ends_at) if _same_day(starts_at, ends_at) else self.moment(ends_at)
        return self.text["span"].format(start=self.moment(starts_at), end=until)


def _tehran(at: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, TEHRAN)


def _same_day(a: float, b: float) -> bool:
    # A window ending at midnight belongs to the day it started on.
    return _tehran(a).date() == _tehran(max(a, b - 1)).date()


_PERSIAN_TEXT = {
    "title": "وضعیت دستگاه‌های متصل به پنجره",
    "short_title": "وضعیت دستگاه‌ها — پنجره",
    "switch": "English",
    "updated": "به‌روزرسانی: {at} به وقت تهران؛ این صفحه هر {every} ثانیه خودش تازه می‌شود.",
    "all_up": "همه‌ی دستگاه‌ها برقرارند.",
    "list_joiner": "، ",
    "separator": "؛ ",
    "agencies": "دستگاه‌ها",
    "since": "در این وضعیت از {at}",
    "latency": "زمان پاسخ (صدک ۹۵): {value}",
    "day_window": "۲۴ ساعت گذشته",
    "week_window": "۷ روز گذشته",
    "day_bars": "دسترس‌پذیری ساعت‌به‌ساعت در ۲۴ ساعت گذشته، از قدیم به جدید",
    "week_bars": "دسترس‌پذیری روزبه‌روز در ۷ روز گذشته، از قدیم به جدید",
    "ago_day": "۲۴ ساعت پیش",
    "ago_week": "۷ روز پیش",
    "now": "اکنون",
    "bar_maintenance": "به‌روزرسانی برنامه‌ریزی‌شده",
    "maintenance_now": "به‌روزرسانی برنامه‌ریزی‌شده: {span}",
    "maintenance_next": "به‌روزرسانی بعدی: {span}",
    "incidents": "رخدادهای اخیر",
    "no_incidents": "در ۷ روز گذشته رخدادی ثبت نشده است.",
    "incident": "{worst} از {start}، به مدت {duration}",
    "incident_open": "{worst} از {start}، ادامه دارد ({duration} تا کنون)",
    "failed": "خطاها: {failures}",
    "failure_count": "{kind} ({n} بار)",
    "no_data": "بدون داده",
    "under_a_minute": "کمتر از یک دقیقه",
    "span": "{start} تا {end}",
    "comma": "،",
    "legend": "راهنمای نوارها",
    "legend_ok": "دست‌کم ۹۹٪",
    "legend_warn": "۹۰ تا ۹۹٪",
    "legend_bad": "کمتر از ۹۰٪",
    "legend_none": "بدون داده",
    "legend_maintenance": "به‌روزرسانی برنامه‌ریزی‌شده",
    "legend_note": "درصدها زمان‌های به‌روزرسانی برنامه‌ریزی‌شده را در بر نمی‌گیرند؛ "
    "زمان پاسخ، صدک ۹۵ در ۵ دقیقه‌ی اخیر است.",
    "unavailable": "وضعیت دستگاه‌ها اکنون در دسترس نیست؛ کمی بعد دوباره سر بزنید.",
}

_ENGLISH_TEXT = {
    "title": "Status of the agencies behind Panjereh",
    "short_title": "Agency status — Panjereh",
    "switch": "فارسی",
    "updated": "Updated {at} Tehran time; this page refreshes itself every {every} seconds.",
    "all_up": "All agencies are up.",
    "list_joiner": ", ",
    "separator": "; ",
    "agencies": "Agencies",
    "since": "in this state since {at}",
    "latency": "response time (p95): {value}",
    "day_window": "Last 24 hours",
    "week_window": "Last 7 days",
    "day_bars": "Availability hour by hour over the last 24 hours, oldest first",
    "week_bars": "Availability day by day over the last 7 days, oldest first",
    "ago_day": "24 h ago",
    "ago_week": "7 days ago",
    "now": "now",
    "bar_maintenance": "planned maintenance",
    "maintenance_now": "Planned maintenance: {span}",
    "maintenance_next": "Next planned maintenance: {span}",
    "incidents": "Recent incidents",
    "no_incidents": "No incident in the last 7 days.",
    "incident": "{worst} from {start}, for {duration}",
    "incident_open": "{worst} since {start}, ongoing ({duration} so far)",
    "failed": "What failed: {failures}",
    "failure_count": "{kind} ({n}×)",
    "no_data": "no data",
    "under_a_minute": "under a minute",
    "span": "{start} to {end}",
    "comma": ",",
    "legend": "How to read the bars",
    "legend_ok": "99% or more",
    "legend_warn": "90 to 99%",
    "legend_bad": "under 90%",
    "legend_none": "no data",
    "legend_maintenance": "planned maintenance",
    "legend_note": "Percentages leave planned maintenance out; response time is the 95th "
    "percentile over the last 5 minutes.",
    "unavailable": "Agency status is not available right now; please try again shortly.",
}

PERSIAN = Words(
    lang="fa",
    direction="rtl",
    text=_PERSIAN_TEXT,
    states={
        AgencyState.UP: "برقرار",
        AgencyState.DEGRADED: "اختلال",
        AgencyState.DOWN: "قطع",
        AgencyState.MAINTENANCE: "در حال به‌روزرسانی",
    },
    failures={
        Failure.REFUSED: "اتصال برقرار نشد",
        Failure.TIMEOUT: "پاسخ نداد (پایان مهلت)",
        Failure.SERVER_ERROR: "خطای سرور",
        Failure.MALFORMED: "پاسخ نامعتبر",
        Failure.RATE_LIMITED: "محدودیت تعداد درخواست",
    },
    units={"minute": "دقیقه", "hour": "ساعت", "day": "روز", "ms": "میلی‌ثانیه", "and": " و "},
    decimal="٫",
    percent="٪",
)

ENGLISH = Words(
    lang="en",
    direction="ltr",
    text=_ENGLISH_TEXT,
    states={
        AgencyState.UP: "Up",
        AgencyState.DEGRADED: "Degraded",
        AgencyState.DOWN: "Down",
        AgencyState.MAINTENANCE: "Maintenance",
    },
    failures={
        Failure.REFUSED: "connection refused",
        Failure.TIMEOUT: "timed out",
        Failure.SERVER_ERROR: "server error (5xx)",
        Failure.MALFORMED: "malformed answer",
        Failure.RATE_LIMITED: "rate limited (429)",
    },
    units={"minute": "min", "hour": "h", "day": "d", "ms": "ms", "and": " "},
    decimal=".",
    percent="%",
)

_BY_LANG: dict[str, Words] = {"fa": PERSIAN, "en": ENGLISH}


def words_for(lang: Lang) -> Words:
    return _BY_LANG[lang]
