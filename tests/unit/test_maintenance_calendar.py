"""The maintenance calendar with an injected clock: nightly windows in Tehran time (crossing
midnight too), one-off windows set by ops, stretches of both, and ops' input refused with a
typed error that changes nothing."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from pydantic import ValidationError

from connectors.registry import AGENCY_IDS
from domain.errors import InvalidInput, NotFound
from domain.jalali import TEHRAN
from observability.agency_health.model import MaintenanceSource, MaintenanceWindow
from observability.maintenance import MaintenanceCalendar, MaintenanceSettings, NightlyWindow
from observability.maintenance.calendar import WindowLimits
from tests.support.scripted_transport import Clock

HOUR = 3600.0


def tehran(*args: int) -> float:
    """Unix seconds of a Tehran wall-clock time."""
    return dt.datetime(*args, tzinfo=TEHRAN).timestamp()


def utc(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


def calendar_at(now: float, **nightly: str | list[str]) -> tuple[MaintenanceCalendar, Clock]:
    clock = Clock(now)
    settings = MaintenanceSettings(nightly=nightly)
    return MaintenanceCalendar(AGENCY_IDS, nightly=settings.nightly, clock=clock), clock


# -- nightly windows --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "crosses"),
    [
        ("00:00-02:00", 0, 120, False),
        ("23:30-01:00", 1410, 60, True),
        (" 1:05 - 4:00 ", 65, 240, False),
        ("۰۰:۰۰-۰۲:۳۰", 0, 150, False),  # Persian digits, as an agency's notice may have them
    ],
)
def test_nightly_windows_parse(text: str, start: int, end: int, crosses: bool) -> None:
    window = NightlyWindow.parse(text)
    assert (window.start, window.end, window.crosses_midnight) == (start, end, crosses)
    assert NightlyWindow.parse(str(window)) == window


@pytest.mark.parametrize("text", ["", "noon", "24:00-01:00", "01:60-02:00", "02:00-02:00", "1-2"])
def test_impossible_nightly_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="window"):
        NightlyWindow.parse(text)


def test_a_nightly_window_is_tehran_time_at_plus_0330_all_year() -> None:
    """No daylight saving since 2023: 00:00-02:00 in Tehran is 20:30-22:30 UTC in summer and
    in winter alike (a tz database from before 2022b would say 19:30 in summer)."""
    window = NightlyWindow.parse("00:00-02:00")
    for day in (dt.date(2024, 6, 21), dt.date(2024, 12, 21), dt.date(2025, 3, 22)):
        start, end = window.occurrence(day)
        previous = day - dt.timedelta(days=1)
        assert start == utc(previous.year, previous.month, previous.day, 20, 30)
        assert end - start == 2 * HOUR


def test_active_inside_a_nightly_window_says_when_it_ends() -> None:
    calendar, clock = calendar_at(tehran(2024, 10, 7, 1, 15), water="00:00-02:00")
    window = calendar.active("water")
    assert window == MaintenanceWindow(
        "water",
        tehran(2024, 10, 7, 0, 0),
        tehran(2024, 10, 7, 2, 0),
        origin="calendar",
        note="nightly 00:00-02:00",
    )
    assert calendar.active("gas") is None  # another agency is not in it
    clock.now = tehran(2024, 10, 7, 2, 0)  # the end is not part of the window
    assert calendar.active("water") is None
    clock.now = tehran(2024, 10, 6, 23, 59, 59)
    assert calendar.active("water") is None


def test_a_window_crossing_midnight_holds_on_both_days() -> None:
    calendar, _ = calendar_at(tehran(2024, 10, 7, 12, 0), tax="23:30-01:00")
    for moment in (tehran(2024, 10, 6, 23, 30), tehran(2024, 10, 7, 0, 59, 59)):
        window = calendar.active("tax", moment)
        assert window is not None
        assert (window.starts_at, window.ends_at) == (
            tehran(2024, 10, 6, 23, 30),
            tehran(2024, 10, 7, 1, 0),
        )
    assert calendar.active("tax", tehran(2024, 10, 7, 1, 0)) is None
    assert calendar.active("tax", tehran(2024, 10, 7, 23, 29)) is None
    following = calendar.next("tax", tehran(2024, 10, 7, 0, 15))  # in one: the next one
    assert following is not None
    assert following.starts_at == tehran(2024, 10, 7, 23, 30)
    assert following.ends_at == tehran(2024, 10, 8, 1, 0)


def test_the_answer_is_the_same_whichever_order_moments_are_asked_in() -> None:
    """`active` remembers each agency's answer while it holds: asking around it stays right."""
    calendar, _ = calendar_at(tehran(2024, 10, 7, 12, 0), water=["00:00-02:00", "13:00-13:30"])
    moments = [tehran(2024, 10, 7, h, m) for h in (0, 1, 2, 12, 13, 14) for m in (0, 29, 59)]
    expected = {
        moment: any(
            start <= moment < end
            for start, end in (
                (tehran(2024, 10, 7, 0, 0), tehran(2024, 10, 7, 2, 0)),
                (tehran(2024, 10, 7, 13, 0), tehran(2024, 10, 7, 13, 30)),
            )
        )
        for moment in moments
    }
    for order in (moments, list(reversed(moments)), moments[::2] + moments[1::2]):
        assert {m: calendar.active("water", m) is not None for m in order} == expected


async def test_upcoming_lists_windows_starting_in_the_range() -> None:
    calendar, _ = calendar_at(tehran(2024, 10, 7, 12, 0), water="00:00-02:00")
    source: MaintenanceSource = calendar  # what the HealthBook takes
    found = await source.upcoming("water", calendar.now(), 3 * 86_400)
    assert [w.starts_at for w in found] == [tehran(2024, 10, d, 0, 0) for d in (8, 9, 10)]
    assert await source.upcoming("gas", calendar.now(), 3 * 86_400) == []
    assert await source.window_at("water", tehran(2024, 10, 8, 1, 0)) == found[0]
    assert await source.window_at("water", tehran(2024, 10, 8, 2, 0)) is None


def test_settings_name_agencies_the_gateway_knows() -> None:
    settings = MaintenanceSettings(nightly={"water": "00:00-02:00", "tax": ["01:00-01:30"]})
    assert settings.nightly["water"] == (NightlyWindow(0, 120),)
    with pytest.raises(ValidationError, match="unknown agencies: watr"):
        MaintenanceSettings(nightly={"watr": "00:00-02:00"})
    with pytest.raises(ValidationError, match="impossible time"):
        MaintenanceSettings(nightly={"water": "25:00-02:00"})
    with pytest.raises(ValueError, match="unknown agencies"):
        MaintenanceCalendar(["water"], nightly={"gas": [NightlyWindow(0, 60)]})


# -- one-off windows --------------------------------------------------------------------------


async def test_an_ops_window_applies_at_once_and_can_be_removed() -> None:
    now = tehran(2024, 10, 7, 12, 0)
    calendar, clock = calendar_at(now)
    assert not calendar.planned("post")
    window = await calendar.add_window("post", now + HOUR, now + 3 * HOUR, "  new servers ")
    assert window == MaintenanceWindow("post", now + HOUR, now + 3 * HOUR, "ops", "new servers")
    assert calendar.planned("post") and not calendar.planned("gas")
    assert calendar.active("post") is None
    assert calendar.next("post") == window
    clock.now = now + 2 * HOUR
    assert calendar.active("post") == window
    assert await calendar.windows("post") == [window]
    assert await calendar.windows() == [window]
    assert await calendar.remove_window("post", window.starts_at) == window
    assert calendar.active("post") is None
    assert await calendar.windows() == []
    with pytest.raises(NotFound):
        await calendar.remove_window("post", window.starts_at)


async def test_datetimes_are_taken_and_kept_to_the_second() -> None:
    now = tehran(2024, 10, 7, 12, 0)
    calendar, _ = calendar_at(now)
    starts = dt.datetime(2024, 10, 7, 13, 0, 0, 400_000, tzinfo=TEHRAN)
    ends = dt.datetime(2024, 10, 7, 10, 30, 0, 100_000, tzinfo=dt.UTC)  # 14:00:00.1 in Tehran
    window = await calendar.add_window("post", starts, ends)
    assert (window.starts_at, window.ends_at) == (now + HOUR, now + 2 * HOUR + 1)
    removed = await calendar.remove_window("post", starts.timestamp())
    assert removed == window


async def test_touching_windows_are_one_stretch_that_ends_with_the_last() -> None:
    calendar, _ = calendar_at(tehran(2024, 10, 6, 22, 0), water="00:00-02:00")
    extension = await calendar.add_window(
        "water", tehran(2024, 10, 7, 2, 0), tehran(2024, 10, 7, 4, 0), "migration"
    )
    stretch = calendar.active("water", tehran(2024, 10, 7, 1, 0))
    assert stretch == MaintenanceWindow(
        "water", tehran(2024, 10, 7, 0, 0), tehran(2024, 10, 7, 4, 0), "ops", "migration"
    )
    assert calendar.active("water", tehran(2024, 10, 7, 3, 0)) == stretch
    assert calendar.next("water") == stretch
    await calendar.remove_window("water", extension.starts_at)
    shorter = calendar.active("water", tehran(2024, 10, 7, 1, 0))
    assert shorter is not None and shorter.ends_at == tehran(2024, 10, 7, 2, 0)


NOW = tehran(2024, 10, 7, 12, 0)


@pytest.mark.parametrize(
    ("agency", "starts_at", "ends_at", "note", "field"),
    [
        ("watr", NOW + HOUR, NOW + 2 * HOUR, "", "agency"),
        ("post", NOW + 2 * HOUR, NOW + HOUR, "", "endsAt"),  # ends before it starts
        ("post", NOW + HOUR, NOW + HOUR, "", "endsAt"),  # empty
        ("post", NOW - 2 * HOUR, NOW - HOUR, "", "endsAt"),  # over already
        ("post", NOW - HOUR, NOW + HOUR, "", "startsAt"),  # would rewrite the past
        ("post", NOW, NOW + 7 * HOUR, "", "endsAt"),  # longer than 6 h
        ("post", NOW + 91 * 86_400, NOW + 91 * 86_400 + HOUR, "", "startsAt"),  # too far ahead
        ("post", math.nan, NOW + HOUR, "", "startsAt"),
        ("post", "tonight", NOW + HOUR, "", "startsAt"),
        ("post", dt.datetime(2024, 10, 7, 13, 0), NOW + 2 * HOUR, "", "startsAt"),  # no offset
        ("post", NOW + HOUR, NOW + 2 * HOUR, "x" * 201, "note"),
        ("post", NOW + HOUR, NOW + 2 * HOUR, "line\nbreak", "note"),
        ("post", NOW + 90 * 60, NOW + 150 * 60, "", "startsAt"),  # overlaps the one set below
    ],
)
async def test_a_window_ops_may_not_set_is_refused_and_changes_nothing(
    agency: str, starts_at: object, ends_at: object, note: str, field: str
) -> None:
    calendar, _ = calendar_at(NOW)
    kept = await calendar.add_window("post", NOW + HOUR, NOW + 2 * HOUR)
    with pytest.raises(InvalidInput) as refused:
        await calendar.add_window(agency, starts_at, ends_at, note)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert await calendar.windows() == [kept]


async def test_a_window_starting_now_may_start_a_moment_ago() -> None:
    calendar, _ = calendar_at(NOW)
    window = await calendar.add_window("gas", NOW - 30, NOW + HOUR)
    assert calendar.active("gas") == window


async def test_an_agency_has_a_bounded_number_of_windows() -> None:
    clock = Clock(NOW)
    calendar = MaintenanceCalendar(AGENCY_IDS, limits=WindowLimits(max_windows=2), clock=clock)
    for hours in (1, 3):
        await calendar.add_window("gas", NOW + hours * HOUR, NOW + (hours + 1) * HOUR)
    with pytest.raises(InvalidInput) as refused:
        await calendar.add_window("gas", NOW + 5 * HOUR, NOW + 6 * HOUR)
    assert refused.value.field == "agency"
    await calendar.add_window("tax", NOW + 5 * HOUR, NOW + 6 * HOUR)  # another agency may


async def test_removing_needs_a_known_agency() -> None:
    calendar, _ = calendar_at(NOW)
    with pytest.raises(InvalidInput):
        await calendar.remove_window("watr", NOW)
    with pytest.raises(InvalidInput):
        await calendar.windows("watr")


async def test_ended_windows_are_listed_no_more_and_dropped_after_a_week() -> None:
    calendar, clock = calendar_at(NOW)
    window = await calendar.add_window("gas", NOW + HOUR, NOW + 2 * HOUR)
    clock.now = NOW + 3 * HOUR
    assert await calendar.windows() == []
    assert calendar.active("gas", NOW + 90 * 60) == window  # the past is still known
    assert await calendar.store.all() == [window]
    clock.now = NOW + 8 * 86_400
    assert await calendar.sync()
    assert await calendar.store.all() == []
    assert not calendar.planned("gas")
