"""The refresh of recently active citizens' data shortly before a window, with injected clocks:
it happens once per window, paced, keeps the copies through the window, and nothing reaches the
agency during the window."""

from __future__ import annotations

import asyncio
import logging

import pytest

from connectors.pipeline.policy import AgencyPolicy
from connectors.pipeline.recent import RecentLimits, RecentOperations
from connectors.pipeline.transport import TransportRequest, TransportResponse
from domain.errors import AgencyInMaintenance
from observability.maintenance import PreWindowRefresh, stale_shortfalls
from tests.support.scripted_transport import Clock, json_response
from tests.unit.test_maintenance_pipeline import POLICY, WATER, Rig, tehran

CODES = ["0012345679", "0084575948", "1234567891"]


def refresher(rig: Rig, **options: float) -> PreWindowRefresh:
    return PreWindowRefresh(rig.calendar, [rig.connector], metrics=rig.metrics, **options)  # type: ignore[arg-type]


async def test_recent_citizens_are_refreshed_before_the_window_and_served_through_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Kept 30 minutes after fetching: without the refresh keeping them longer, the copies made
    # at 23:52 would be gone at 00:22, well inside the 00:00-02:00 window.
    rig = Rig(tehran(2024, 10, 6, 22, 0), POLICY.replace(stale_ttl=1800))
    refresh = refresher(rig, lead_s=600)
    for code in CODES:
        rig.transport.add(json_response(WATER))
        await rig.bills(code)
    assert len(rig.transport.sent) == 3

    rig.wall.now = tehran(2024, 10, 6, 23, 49)  # 11 minutes before: not yet
    assert await refresh.tick() == {}
    rig.wall.now = tehran(2024, 10, 6, 23, 52)
    rig.transport.add(*[json_response(WATER)] * 3)
    with caplog.at_level(logging.INFO, "observability.maintenance.pre_window"):
        done = await refresh.tick()
    assert done["water"]["refreshed"] == 3
    assert len(rig.transport.sent) == 6
    ids = {request.headers["X-Request-Id"] for request in rig.transport.sent[3:]}  # type: ignore[index]
    [round_id] = ids  # one id for the round, its own
    assert round_id.startswith("maintenance-water-")
    assert rig.count("panjereh_maintenance_refreshes_total", result="refreshed") == 3
    assert await refresh.tick() == {}  # once per window
    logged = caplog.text
    assert "3 refreshed" in logged
    assert not any(code in logged for code in CODES)  # counts, never a subject

    rig.wall.now = tehran(2024, 10, 7, 1, 30)  # in the window
    for code in CODES:
        answer = await rig.bills(code)
        assert answer.source.stale is True
        assert answer.source.fetched_at.timestamp() == tehran(2024, 10, 6, 23, 52)
    with pytest.raises(AgencyInMaintenance):  # a citizen not seen before: nothing cached
        await rig.bills("0000000000")
    assert len(rig.transport.sent) == 6  # not one call during the window
    assert rig.count("panjereh_agency_requests_total", outcome="maintenance") == 4


async def test_copies_fresh_through_the_window_are_left_alone() -> None:
    rig = Rig(tehran(2024, 10, 6, 23, 0), POLICY.replace(fresh_ttl=6 * 3600))
    rig.transport.add(json_response(WATER))
    await rig.bills()
    rig.wall.now = tehran(2024, 10, 6, 23, 55)
    done = await refresher(rig).tick()
    assert done["water"] == {"fresh": 1}
    assert len(rig.transport.sent) == 1


async def test_a_failed_refresh_keeps_the_old_copy_and_is_counted() -> None:
    rig = Rig(tehran(2024, 10, 6, 23, 0), POLICY.replace(max_attempts=1))
    rig.transport.add(json_response(WATER))
    await rig.bills()
    rig.wall.now = tehran(2024, 10, 6, 23, 55)
    rig.transport.add(TransportResponse(500))
    done = await refresher(rig).tick()
    assert done["water"] == {"failed": 1}
    assert rig.count("panjereh_maintenance_refreshes_total", result="failed") == 1
    rig.wall.now = tehran(2024, 10, 7, 0, 10)
    assert (await rig.bills()).source.stale is True  # the copy of 23:00, still kept


async def test_refreshes_are_paced() -> None:
    rig = Rig(tehran(2024, 10, 6, 22, 0))
    codes = [f"00{n:08d}" for n in range(7)]
    for code in codes:
        rig.transport.add(json_response(WATER))
        await rig.bills(code)
    in_flight, most = 0, 0

    async def slow_answer(request: TransportRequest) -> TransportResponse:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return json_response(WATER)

    rig.wall.now = tehran(2024, 10, 6, 23, 55)
    rig.transport.add(*[slow_answer] * len(codes))
    done = await refresher(rig, concurrency=2).tick()
    assert done["water"] == {"refreshed": 7}
    assert most == 2


async def test_operations_not_reached_before_the_window_began_are_not_sent() -> None:
    rig = Rig(tehran(2024, 10, 6, 22, 0))
    for code in CODES:
        rig.transport.add(json_response(WATER))
        await rig.bills(code)

    def answer_slowly(request: TransportRequest) -> TransportResponse:
        rig.wall.now = tehran(2024, 10, 7, 0, 0)  # the window begins during the first refresh
        return json_response(WATER)

    rig.wall.now = tehran(2024, 10, 6, 23, 59)
    rig.transport.add(answer_slowly)
    done = await refresher(rig, concurrency=1).tick()
    assert done["water"] == {"refreshed": 1, "late": 2}
    assert len(rig.transport.sent) == 4


async def test_only_agencies_with_a_window_keep_a_record() -> None:
    rig = Rig(tehran(2024, 10, 6, 22, 0))
    recent = rig.connector.operations.recent
    assert recent is not None
    rig.calendar.nightly.clear()
    await rig.calendar.sync()  # nothing planned for water any more
    rig.transport.add(json_response(WATER))
    await rig.bills()
    assert len(recent) == 0
    await rig.calendar.add_window("water", rig.wall.now + 3600, rig.wall.now + 7200)
    await rig.bills()  # a cache hit is a use too
    assert len(recent) == 1


def test_the_record_is_bounded_in_count_and_age() -> None:
    clock = Clock()
    recent = RecentOperations(RecentLimits(max_entries=3, max_age_s=100), clock=clock)

    async def load(deadline: object) -> None: ...

    for n in range(5):
        clock.advance(10)
        recent.note("bills", f"citizen-{n}", load, None)  # type: ignore[arg-type]
    assert [op.subject for op in recent.due()] == ["citizen-4", "citizen-3", "citizen-2"]
    clock.advance(10)
    recent.note("bills", "citizen-2", load, None)  # type: ignore[arg-type]
    clock.advance(95)
    assert [op.subject for op in recent.due()] == ["citizen-2"]
    clock.advance(10)
    assert recent.due() == [] and len(recent) == 0


def test_stale_windows_shorter_than_a_nightly_window_are_reported() -> None:
    rig = Rig(tehran(2024, 10, 6, 22, 0), AgencyPolicy(stale_ttl=3600))
    assert stale_shortfalls(rig.calendar, [rig.connector], 600) == [
        "water/*: stale window 3600 s < 7800 s (lead + nightly 00:00-02:00)"
    ]
    rig = Rig(tehran(2024, 10, 6, 22, 0))
    assert stale_shortfalls(rig.calendar, [rig.connector], 600) == []


async def test_the_background_loop_starts_and_stops() -> None:
    rig = Rig(tehran(2024, 10, 6, 22, 0))
    waits: list[float] = []
    three = asyncio.Event()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            three.set()
        await asyncio.sleep(0)

    refresh = PreWindowRefresh(
        rig.calendar, [rig.connector], metrics=rig.metrics, check_s=30, sleep=sleep
    )
    await refresh.start()
    await asyncio.wait_for(three.wait(), 5)
    await refresh.stop()
    assert waits[:3] == [30, 30, 30]
    assert refresh._task is None
