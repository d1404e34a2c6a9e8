"""The agency state machine and its incidents: the rule table, then the book through ticks.

Real: the judge, the book, its in-memory store, the metrics. Time is a clock the test moves
(`tests/support/health.py`): a tick is 15 s, nothing sleeps.
"""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from observability.agency_health.judge import Tick, judge
from observability.agency_health.model import (
    AgencyState,
    Failure,
    MaintenanceWindow,
    Sample,
    Window,
)
from observability.agency_health.tally import Tally
from tests.support.health import OK_CALL, Calendar, Call, HealthRig

UP, DEGRADED, DOWN, MAINTENANCE = (
    AgencyState.UP,
    AgencyState.DEGRADED,
    AgencyState.DOWN,
    AgencyState.MAINTENANCE,
)
FAILED_CALL = Call(ok=False, failure=Failure.SERVER_ERROR)


def _tally(ok: int = 0, failed: int = 0) -> Tally:
    return Tally(ok=ok, failed=failed, failures={Failure.SERVER_ERROR: failed} if failed else {})


def _tick(
    probe: str = "ok",
    calls: tuple[int, int] = (0, 0),
    recent: tuple[int, int] = (20, 0),
    **kw: bool,
) -> Tick:
    sample = Sample(
        "water",
        0.0,
        ok=probe == "ok",
        seconds=0.1,
        failure=Failure.REFUSED if probe == "failed" else None,
        maintenance=probe == "maintenance",
        probe=True,
    )
    return Tick(sample, _tally(*calls), _tally(*recent), **kw)


@pytest.mark.parametrize(
    ("tick", "previous_clean", "state", "clean"),
    [
        (_tick(planned=True), True, MAINTENANCE, True),  # a window, even while it answers
        (_tick("maintenance"), True, MAINTENANCE, False),  # 503 with Retry-After
        (_tick("failed"), True, DOWN, False),
        (_tick("failed", calls=(0, 5)), True, DOWN, False),  # calls failed too
        (_tick("failed", calls=(1, 5)), True, DEGRADED, False),  # a call got through
        (_tick(), True, UP, True),
        (_tick(recent=(10, 10)), True, UP, True),  # two clean ticks: UP whatever the 5 min
        (_tick(recent=(16, 4)), False, DEGRADED, True),  # after trouble: 5 min ratio 0.2
        (_tick(recent=(17, 3)), False, UP, True),  # ratio below 0.2
        (_tick(recent=(1, 2)), False, UP, True),  # 3 samples judge no ratio
        (_tick(calls=(9, 1)), True, DEGRADED, False),  # this tick had a failure
    ],
)
def test_the_rules_in_order(
    tick: Tick, previous_clean: bool, state: AgencyState, clean: bool
) -> None:
    verdict = judge(tick, previous_clean, degraded_ratio=0.2, min_samples=4)
    assert (verdict.state, verdict.clean) == (state, clean)


async def test_an_outage_without_traffic_is_down_with_an_incident_of_refused() -> None:
    rig = HealthRig()
    assert await rig.ticks(3) == [UP] * 3
    assert await rig.ticks(4, probe=Failure.REFUSED) == [DOWN] * 4
    [incident] = await rig.book.incidents("water", 5)
    assert incident.ended_at is None and incident.worst is DOWN
    assert incident.failures == {Failure.REFUSED: 4}
    assert incident.started_at == rig.clock() - 3 * 15
    snapshot = await rig.book.snapshot("water")
    assert (snapshot.state, snapshot.since) == (DOWN, incident.started_at)
    assert rig.gauge("panjereh_agency_up", agency="water") == 0
    assert rig.gauge("panjereh_agency_state", agency="water", state="DOWN") == 1
    assert rig.gauge("panjereh_agency_state", agency="water", state="UP") == 0
    assert (await rig.book.snapshot("gas")).state is UP  # never judged: shown UP


async def test_a_recovered_agency_goes_down_degraded_up_within_two_ticks() -> None:
    rig = HealthRig()
    await rig.ticks(20)
    assert await rig.ticks(8, probe=Failure.TIMEOUT) == [DOWN] * 8
    assert await rig.ticks(3) == [DEGRADED, UP, UP]
    [incident] = await rig.book.incidents(None, 5)
    assert incident.ended_at == rig.clock() - 15  # closed by the first UP tick
    assert incident.worst is DOWN and incident.failures == {Failure.TIMEOUT: 8}
    assert incident.duration(rig.clock()) == 9 * 15
    assert rig.gauge("panjereh_agency_up", agency="water") == 1


async def test_a_half_flaky_agency_with_traffic_stays_degraded() -> None:
    rig = HealthRig()
    await rig.ticks(4)
    flaky = [OK_CALL, FAILED_CALL] * 5
    states = []
    for n in range(40):  # ten minutes, the probe failing every other tick too
        probe = Failure.SERVER_ERROR if n % 2 else None
        states.append(await rig.tick(probe=probe, calls=flaky))
    assert set(states) == {DEGRADED}  # calls get through: never DOWN; failures: never UP
    [incident] = await rig.book.incidents("water", 5)
    assert incident.worst is DEGRADED and incident.ended_at is None
    assert incident.failures == {Failure.SERVER_ERROR: 40 * 5 + 20}
    assert rig.gauge("panjereh_agency_up", agency="water") == 1  # answering, DEGRADED
    assert rig.gauge("panjereh_agency_failure_ratio", agency="water") == pytest.approx(
        0.5, abs=0.05
    )


async def test_flapping_tick_by_tick_alternates_down_and_degraded_in_one_incident() -> None:
    rig = HealthRig()
    await rig.ticks(20)
    states = []
    for n in range(60):
        states.append(await rig.tick(probe=Failure.REFUSED if n % 2 == 0 else None))
    steady = states[20:]  # once the last 5 minutes are half failures
    assert steady == [DOWN, DEGRADED] * 20
    assert UP not in states[10:]
    incidents = await rig.book.incidents("water", 10)
    assert incidents[0].ended_at is None and incidents[0].worst is DOWN


async def test_flapping_four_minutes_in_five_is_down_then_degraded_then_up() -> None:
    """Down 4 minutes of every 5 with 15 s ticks: each down stretch is DOWN; the minute up is
    DEGRADED for one tick (the 5 minutes are mostly failures) and UP after two clean ticks, as
    the rules say; each cycle is an incident of its own, and availability shows the flapping."""
    rig = HealthRig()
    await rig.ticks(20)
    cycles = []
    for _ in range(3):
        down = await rig.ticks(16, probe=Failure.REFUSED)
        up = await rig.ticks(4)
        cycles.append((down, up))
    for down, up in cycles:
        assert down == [DOWN] * 16
        assert up == [DEGRADED, UP, UP, UP]
    incidents = await rig.book.incidents("water", 10)
    assert len(incidents) == 3 and all(i.worst is DOWN and i.ended_at for i in incidents)
    hour = await rig.book.availability("water", Window.HOUR)
    assert hour.excluding_maintenance == pytest.approx(0.4, abs=0.15)


async def test_an_announced_maintenance_is_never_down_and_never_an_incident() -> None:
    rig = HealthRig()
    await rig.ticks(20)
    states = await rig.ticks(12, maintenance=True, retry_after=600)
    assert states == [MAINTENANCE] * 12
    assert await rig.book.incidents(None, 10) == []
    snapshot = await rig.book.snapshot("water")
    window = snapshot.maintenance
    assert window is not None and window.origin == "agency"
    assert (window.starts_at, window.ends_at) == (rig.clock() - 11 * 15, rig.clock() + 600)
    assert rig.gauge("panjereh_agency_maintenance", agency="water") == 1
    assert rig.gauge("panjereh_agency_up", agency="water") == 0
    assert await rig.ticks(2) == [UP, UP]  # maintenance samples are no failures
    assert (await rig.book.snapshot("water")).maintenance is None


async def test_a_calendar_window_is_maintenance_while_the_agency_answers() -> None:
    calendar = Calendar()
    rig = HealthRig(calendar=calendar)
    now = rig.clock()
    window = MaintenanceWindow("water", now + 70, now + 600, origin="calendar", note="nightly")
    later = MaintenanceWindow("water", now + 86400, now + 87000)
    calendar.windows += [window, later]
    assert (await rig.book.snapshot("water")).next_maintenance == window
    assert await rig.ticks(4) == [UP] * 4
    assert await rig.ticks(4) == [MAINTENANCE] * 4  # the probe answers ok all along
    snapshot = await rig.book.snapshot("water")
    assert snapshot.maintenance == window and snapshot.next_maintenance == later
    assert await rig.ticks(20, probe=Failure.REFUSED) == [MAINTENANCE] * 20  # work in a window
    assert await rig.book.incidents("water", 5) == []
    five = await rig.book.availability("water", Window.FIVE_MINUTES)
    assert five.excluding_maintenance is None  # only planned minutes: nothing to judge
    assert five.including_maintenance == 0


async def test_maintenance_closes_an_incident_and_trouble_after_it_opens_another() -> None:
    rig = HealthRig()
    await rig.ticks(2)
    await rig.ticks(3, probe=Failure.SERVER_ERROR)
    assert await rig.tick(maintenance=True, retry_after=60) is MAINTENANCE
    [closed] = await rig.book.incidents("water", 5)
    assert closed.ended_at == rig.clock()
    assert await rig.tick(probe=Failure.MALFORMED) is DOWN
    newest, older = await rig.book.incidents("water", 5)
    assert older == closed and newest.ended_at is None
    assert newest.failures == {Failure.MALFORMED: 1}


async def test_incidents_count_calls_and_probes_and_list_newest_first() -> None:
    rig = HealthRig()
    await rig.ticks(2, "water")
    await rig.ticks(2, "gas")
    timeouts = [Call(ok=False, failure=Failure.TIMEOUT, seconds=2.0)] * 3
    await rig.tick("water", probe=Failure.REFUSED, calls=timeouts)
    await rig.tick("water", probe=Failure.REFUSED, calls=[Call(False, Failure.RATE_LIMITED)])
    await rig.ticks(2, "water")
    assert await rig.tick("gas", probe=Failure.SERVER_ERROR) is DOWN
    gas, water = await rig.book.incidents(None, 10)
    assert (gas.agency, gas.ended_at) == ("gas", None)
    assert water.agency == "water" and water.ended_at is not None
    assert water.failures == {Failure.REFUSED: 2, Failure.TIMEOUT: 3, Failure.RATE_LIMITED: 1}
    assert await rig.book.incidents(None, 1) == [gas]
    assert await rig.book.incidents("water", 10) == [water]
    with pytest.raises(InvalidInput):
        await rig.book.incidents(None, 0)
    with pytest.raises(InvalidInput):
        await rig.book.incidents("nowhere", 3)


async def test_calls_since_the_last_tick_decide_down_or_degraded() -> None:
    rig = HealthRig()
    await rig.ticks(20)
    assert await rig.tick(probe=Failure.TIMEOUT, calls=[OK_CALL]) is DEGRADED
    assert await rig.tick(probe=Failure.TIMEOUT) is DOWN  # the ok call was the last tick's


async def test_another_instance_and_a_restart_read_the_shared_state() -> None:
    first = HealthRig()
    await first.ticks(2)
    await first.ticks(2, probe=Failure.REFUSED)
    other = HealthRig(clock=first.clock, store=first.store)  # same store: the fleet's Redis
    await other.book.refresh()
    snapshot = await other.book.snapshot("water")
    assert snapshot.state is DOWN and snapshot.since == first.clock() - 15
    assert await other.book.incidents("water", 5) == await first.book.incidents("water", 5)
    assert other.gauge("panjereh_agency_up", agency="water") == 0
    # the other instance takes the lease next: it judges on from the shared record
    assert await other.tick() is DEGRADED
    assert await other.tick() is UP
    await first.book.refresh(["water"])
    assert (await first.book.snapshot("water")).state is UP
    [incident] = await first.book.incidents("water", 5)
    assert incident.ended_at == first.clock()
