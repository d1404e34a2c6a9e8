"""Availability, p95 and bars from the tallies: each minute weighs the same, maintenance left
out or counted as down, hours rolled up once for the fleet and read back after a restart.

Real: the book, its history and its in-memory store; the clock is moved by the test.
"""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from observability.agency_health.model import Failure, Window
from observability.agency_health.tally import LATENCY_BOUNDS, Tally, bucket_of
from tests.support.health import T0, Call, HealthRig

OK = Call()
FAILED = Call(ok=False, failure=Failure.SERVER_ERROR)
PLANNED = Call(ok=False, maintenance=True)


async def _availability(rig: HealthRig, window: Window) -> tuple[float | None, float | None]:
    await rig.book.flush()
    found = await rig.book.availability("water", window)
    return found.excluding_maintenance, found.including_maintenance


async def test_each_minute_with_samples_weighs_the_same() -> None:
    rig = HealthRig()
    rig.calls("water", [OK] * 100)  # a busy good minute
    rig.clock.advance(60)
    rig.calls("water", [FAILED])  # a quiet bad one
    assert await _availability(rig, Window.FIVE_MINUTES) == (0.5, 0.5)  # not 100 / 101


async def test_maintenance_is_left_out_or_counted_as_unavailable() -> None:
    rig = HealthRig()
    rig.calls("water", [OK])
    rig.clock.advance(60)
    rig.calls("water", [FAILED])
    rig.clock.advance(60)
    rig.calls("water", [OK, OK, PLANNED, PLANNED])  # half planned
    rig.clock.advance(60)
    rig.calls("water", [PLANNED] * 3)  # only planned
    excluding, including = await _availability(rig, Window.FIVE_MINUTES)
    assert excluding == pytest.approx((1 + 0 + 1) / 3)
    assert including == pytest.approx((1 + 0 + 0.5 + 0) / 4)


async def test_windows_take_only_their_minutes() -> None:
    rig = HealthRig()
    rig.calls("water", [FAILED] * 3)
    rig.clock.advance(30 * 60)
    rig.calls("water", [OK])
    assert await _availability(rig, Window.FIVE_MINUTES) == (1.0, 1.0)
    assert await _availability(rig, Window.HOUR) == (0.5, 0.5)
    assert await _availability(rig, Window.DAY) == (0.5, 0.5)  # the last two hours by minute
    rig.clock.advance(3600)
    assert await _availability(rig, Window.FIVE_MINUTES) == (None, None)  # nothing measured


async def _three_hours_with_one_bad_minute(rig: HealthRig) -> None:
    """Two judged minutes at noon (½ and 1), maintenance at 13:30; then time passes, the book
    maintaining itself every 10 minutes as its loop would."""
    rig.clock.advance(10)
    rig.calls("water", [OK, OK, FAILED, FAILED])
    rig.clock.advance(60)
    rig.calls("water", [OK])
    for step in range(18):
        rig.clock.advance(600)
        await rig.book.maintain()
        if step == 8:  # 13:31
            rig.calls("water", [PLANNED])


async def test_hours_roll_up_once_for_the_fleet_and_survive_a_restart() -> None:
    rig = HealthRig()
    other = HealthRig(clock=rig.clock, store=rig.store)  # a second instance on the same store
    rig.clock.advance(10)
    rig.calls("water", [OK, OK, FAILED, FAILED])
    rig.clock.advance(60)
    rig.calls("water", [OK])
    for _ in range(18):  # three hours, both instances maintaining every 10 minutes
        rig.clock.advance(600)
        await rig.book.maintain()
        await other.book.maintain()
    hour = int(T0 // 3600)
    [(_, shares)] = (await rig.store.hours("water", [hour])).items()
    assert (shares.minutes_excluding, shares.good_excluding) == (2, 1.5)  # rolled once
    assert await rig.store.minutes("water", [int(T0 // 60)]) == {}  # minutes are gone by now
    assert await _availability(rig, Window.HOUR) == (None, None)
    assert await _availability(rig, Window.DAY) == (0.75, 0.75)
    assert await _availability(rig, Window.WEEK) == (0.75, 0.75)
    restarted = HealthRig(clock=rig.clock, store=rig.store)
    assert await _availability(restarted, Window.DAY) == (0.75, 0.75)


async def test_a_day_of_hourly_bars_and_a_week_of_daily_bars() -> None:
    rig = HealthRig()
    await _three_hours_with_one_bad_minute(rig)
    now = rig.clock()
    day = await rig.book.bars("water", Window.DAY)
    current = int(now // 3600)
    assert [bar.starts_at for bar in day] == [h * 3600.0 for h in range(current - 23, current + 1)]
    assert all(bar.seconds == 3600 for bar in day)
    by_hour = {int(bar.starts_at // 3600): bar for bar in day}
    noon = by_hour[int(T0 // 3600)]
    assert (noon.ratio, noon.maintenance) == (0.75, False)
    planned = by_hour[int(T0 // 3600) + 1]
    assert (planned.ratio, planned.maintenance) == (None, True)  # only planned: no ratio
    assert [bar.ratio for bar in day].count(None) == 23
    week = await rig.book.bars("water", Window.WEEK)
    today = int(now // 86400)
    assert [bar.starts_at for bar in week] == [d * 86400.0 for d in range(today - 6, today + 1)]
    assert [(bar.ratio, bar.maintenance) for bar in week] == [(None, False)] * 6 + [(0.75, True)]
    with pytest.raises(InvalidInput):
        await rig.book.bars("water", Window.HOUR)


async def test_p95_is_over_the_last_five_minutes() -> None:
    rig = HealthRig()
    rig.calls("water", [Call(seconds=9.0)] * 50)  # slow, but six minutes ago
    rig.clock.advance(6 * 60)
    rig.calls("water", [Call(seconds=0.1)] * 90 + [Call(seconds=3.0)] * 10)
    await rig.book.flush()
    p95 = (await rig.book.snapshot("water")).latency_p95
    assert p95 == pytest.approx(3.0, rel=0.2)
    rig.clock.advance(60)
    rig.calls("water", [Call(seconds=0.1)] * 900)
    await rig.book.flush()
    assert (await rig.book.snapshot("water")).latency_p95 == pytest.approx(0.1, rel=0.2)


def test_latency_buckets_and_quantiles() -> None:
    assert bucket_of(0.0) == 0 and bucket_of(0.001) == 0
    assert bucket_of(1000.0) == len(LATENCY_BOUNDS)  # the open top bucket
    assert LATENCY_BOUNDS[-1] == pytest.approx(65.536)
    tally = Tally()
    assert tally.quantile(0.95) is None
    tally.latency = {bucket_of(0.25): 100}
    assert 0.2 < (tally.quantile(0.5) or 0) <= 0.25


def test_a_tally_round_trips_through_its_fields() -> None:
    tally = Tally(
        ok=3,
        failed=2,
        maintenance=1,
        failures={Failure.TIMEOUT: 1, Failure.REFUSED: 1},
        latency={4: 2, 30: 3},
    )
    assert Tally.from_fields(tally.fields()) == tally
    raw = {k.encode(): str(v).encode() for k, v in tally.fields().items()}
    assert Tally.from_fields({**raw, b"f:nonsense": b"9", b"other": b"1"}) == tally
