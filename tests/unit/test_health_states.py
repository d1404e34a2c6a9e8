"""The agency state machine and its incidents: the rule table, then the book through ticks.

Real: the judge, the book, its in-memory store, the metrics. Time is a clock the test moves
(`tests/support/health.py`): a tick is 15 s, nothing sleeps.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from domain.errors import InvalidInput
from observability.agency_health.judge import Tick, TickVerdict, judge
from observability.agency_health.model import (
    AgencyState,
    Failure,
    MaintenanceWindow,
    Sample,
    Window,
)
from observability.agency_health.store import AgencyRecord
from observability.agency_health.tally import Tally
from tests.support.health import OK_CALL, Calendar, Call, HealthRig

UP, DEGRADED, DOWN, MAINTENANCE = (
    AgencyState.UP,
    AgencyState.DEGRADED,
    AgencyState.DOWN,
    AgencyState.MAINTENANCE,
)
FAILED_CALL = Call(ok=False, failure=Failure.SERVER_ERROR)


def _tally(ok: int = 0, failed: int = 0, maintenance: int = 0) -> Tally:
    failures = {Failure.SERVER_ERROR: failed} if failed else {}
    return Tally(ok=ok, failed=failed, maintenance=maintenance, failures=failures)


NOW = 1_767_268_800.0
WINDOW = MaintenanceWindow("water", NOW - 60, NOW + 600, origin="ops")


def _tick(
    probe: str = "ok",
    calls: tuple[int, ...] = (0, 0),
    recent: tuple[int, int] = (20, 0),
    window: MaintenanceWindow | None = None,
) -> Tick:
    failure = {"failed": Failure.REFUSED, "429": Failure.RATE_LIMITED}.get(probe)
    sample = Sample(
        "water",
        NOW,
        ok=probe == "ok",
        seconds=0.1,
        failure=failure,
        maintenance=probe == "maintenance",
        probe=True,
    )
    return Tick(sample, _tally(*calls), _tally(*recent), window=window, retry_after=60)


def _before(
    state: AgencyState = UP,
    *,
    answered: bool = True,
    probe_failed: bool = False,
    hold_until: float | None = None,
    outage: tuple[tuple[int, int], ...] = (),
) -> AgencyRecord:
    return AgencyRecord(
        "water",
        state,
        since=NOW - 600,
        at=NOW - 15,
        answered=answered,
        probe_failed=probe_failed,
        origin="agency" if state is MAINTENANCE else None,
        back_at=hold_until,
        hold_until=hold_until,
        outage=outage,
    )


SILENT = _before(DEGRADED, answered=False, probe_failed=True)
"""The previous tick: its probe failed and nothing else answered."""
MINUTE = int(NOW // 60)


@pytest.mark.parametrize(
    ("tick", "previous", "state"),
    [
        (_tick(window=WINDOW), _before(), MAINTENANCE),  # a window, even while it answers
        (_tick("maintenance"), _before(), MAINTENANCE),  # 503 with Retry-After
        (_tick(calls=(1, 0, 3)), _before(), MAINTENANCE),  # most calls: 503 + Retry-After
        (_tick(calls=(2, 0, 2)), _before(), UP),  # half of them: not most
        (_tick(), _before(MAINTENANCE, hold_until=NOW + 60), MAINTENANCE),  # held
        (_tick(calls=(1, 0)), _before(MAINTENANCE, hold_until=NOW + 60), UP),  # a call got in
        (_tick(), _before(MAINTENANCE, hold_until=NOW - 1), UP),  # the time it named passed
        (_tick("failed"), _before(), UP),  # one failed probe after an answer: no outage yet
        (_tick("failed"), SILENT, DOWN),  # two ticks without an answer
        (_tick("failed"), None, DOWN),  # nothing known answered before
        (_tick("failed", calls=(0, 5)), SILENT, DOWN),  # calls failed too
        (_tick("failed", calls=(1, 5)), SILENT, DEGRADED),  # a call got through
        (_tick("429"), SILENT, DEGRADED),  # rate limited: answering, never DOWN
        (_tick("429", calls=(20, 0)), _before(), UP),  # one 429 among many answers
        (_tick("failed", calls=(20, 0)), _before(probe_failed=True), DEGRADED),  # twice running
        (_tick(), _before(), UP),
        (_tick(calls=(9, 1)), _before(), UP),  # one failed call in ten: not DEGRADED
        (_tick(calls=(4, 2)), _before(), DEGRADED),  # this tick: 2 of 7 failed
        (_tick(calls=(1, 1)), _before(), UP),  # 3 samples in the tick judge no ratio
        (_tick(recent=(10, 10)), _before(), DEGRADED),  # 5 min ratio 0.5
        (_tick(recent=(16, 4)), _before(), DEGRADED),  # 5 min ratio 0.2
        (_tick(recent=(17, 3)), _before(), UP),  # ratio below 0.2
        (_tick(recent=(1, 2)), _before(), UP),  # 3 samples judge no ratio
        (_tick(), _before(DOWN, answered=False), DEGRADED),  # the first tick back
        (_tick(recent=(12, 9)), _before(outage=((MINUTE - 1, 8),)), UP),  # outage: 1 failure
        (_tick(recent=(12, 9)), _before(outage=((MINUTE - 7, 8),)), DEGRADED),  # long gone
    ],
)
def test_the_rules_in_order(tick: Tick, previous: AgencyRecord | None, state: AgencyState) -> None:
    verdict = judge(tick, previous, NOW, degraded_ratio=0.2, min_samples=4)
    assert verdict.state is state


def test_a_tick_says_whether_the_agency_answered_and_whose_maintenance_it_is() -> None:
    def verdict(tick: Tick, previous: AgencyRecord | None = None) -> TickVerdict:
        return judge(tick, previous, NOW, degraded_ratio=0.2, min_samples=4)

    assert (verdict(_tick()).answered, verdict(_tick()).probe_failed) == (True, False)
    assert (verdict(_tick("failed")).answered, verdict(_tick("failed")).probe_failed) == (
        False,
        True,
    )
    assert verdict(_tick("429")).answered is True
    assert verdict(_tick("failed", calls=(1, 0))).answered is True
    planned = verdict(_tick(window=WINDOW))
    assert (planned.origin, planned.back_at) == ("ops", None)
    said = verdict(_tick("maintenance"))
    assert (said.origin, said.back_at, said.hold_until) == ("agency", NOW + 60, None)


async def test_an_outage_without_traffic_is_down_by_its_second_tick() -> None:
    rig = HealthRig()
    assert await rig.ticks(20) == [UP] * 20
    assert await rig.ticks(5, probe=Failure.REFUSED) == [UP] + [DOWN] * 4  # one failure: no
    [incident] = await rig.book.incidents("water", 5)  # outage yet; two in a row are one
    assert incident.ended_at is None and incident.worst is DOWN
    assert incident.failures == {Failure.REFUSED: 4}
    assert incident.started_at == rig.clock() - 3 * 15
    snapshot = await rig.book.snapshot("water")
    assert (snapshot.state, snapshot.since) == (DOWN, incident.started_at)
    assert rig.gauge("panjereh_agency_up", agency="water") == 0
    assert rig.gauge("panjereh_agency_state", agency="water", state="DOWN") == 1
    assert rig.gauge("panjereh_agency_state", agency="water", state="UP") == 0
    assert (await rig.book.snapshot("gas")).state is UP  # never judged: shown UP


async def test_a_hard_outage_with_traffic_is_degraded_then_down() -> None:
    rig = HealthRig()
    await rig.ticks(20, calls=[OK_CALL] * 5)
    refused = [Call(ok=False, failure=Failure.REFUSED)] * 5
    assert await rig.ticks(3, probe=Failure.REFUSED, calls=refused) == [DEGRADED, DOWN, DOWN]


async def test_a_recovered_agency_goes_down_degraded_up_within_two_ticks() -> None:
    rig = HealthRig()
    await rig.ticks(20)
    assert await rig.ticks(16, probe=Failure.TIMEOUT) == [UP] + [DOWN] * 15  # 4 minutes
    assert await rig.ticks(3) == [DEGRADED, UP, UP]  # though the 5 min are mostly failures
    [incident] = await rig.book.incidents(None, 5)
    assert incident.ended_at == rig.clock() - 15  # closed by the first UP tick
    assert incident.worst is DOWN and incident.failures == {Failure.TIMEOUT: 15}
    assert incident.duration(rig.clock()) == 16 * 15
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


async def _coin_flipping(rig: HealthRig, seed: int, calls: int, ticks: int) -> list[AgencyState]:
    """Ticks of an agency failing half of everything at random: the probe and each call."""
    draw = random.Random(seed)
    states = []
    for _ in range(ticks):
        made = [FAILED_CALL if draw.random() < 0.5 else OK_CALL for _ in range(calls)]
        probe = Failure.SERVER_ERROR if draw.random() < 0.5 else None
        states.append(await rig.tick(probe=probe, calls=made))
    return states


@pytest.mark.parametrize(
    ("calls", "trouble", "most_down"),
    [
        (0, 0.8, 0.5),  # the probe alone: two failures running are an outage, by the rules
        (2, 0.9, 0.1),
        (20, 1.0, 0.0),
    ],
)
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_coin_flipping_agency_is_degraded_and_seldom_down(
    seed: int, calls: int, trouble: float, most_down: float
) -> None:
    """Once its last 5 minutes are flaky, a 50 %-flaky agency is DEGRADED or DOWN nearly all
    the time (the alerts need that), and DOWN only on two ticks running where nothing at all
    answered: with traffic, seldom. Before, each tick of it without a successful call was
    DOWN and each other tick DEGRADED or UP: it flapped at random."""
    rig = HealthRig()
    await rig.ticks(4)
    await _coin_flipping(rig, seed, calls, ticks=20)  # 5 minutes of it
    states = await _coin_flipping(rig, seed + 100, calls, ticks=40)
    assert sum(s in (DEGRADED, DOWN) for s in states) >= trouble * len(states), states
    assert sum(s is DOWN for s in states) <= most_down * len(states), states


async def test_a_busy_agency_failing_now_and_then_stays_up() -> None:
    """1000 calls a tick, 0.5 % of them failing, and the probe failing as often: four hours
    UP, no incident. Before, any failed call made its tick DEGRADED (54 minutes of 4 h)."""
    draw = random.Random(8)
    rig = HealthRig()
    kinds = [Failure.TIMEOUT, Failure.SERVER_ERROR, Failure.REFUSED]
    states = []
    for _ in range(4 * 60 * 4):
        failed = sum(draw.random() < 0.005 for _ in range(1000))
        calls = [Call(ok=False, failure=draw.choice(kinds))] * failed
        calls += [OK_CALL] * (1000 - failed)
        probe = Failure.TIMEOUT if draw.random() < 0.005 else None
        states.append(await rig.tick(probe=probe, calls=calls))
    assert set(states) == {UP}
    assert await rig.book.incidents("water", 5) == []


async def test_one_in_a_hundred_failing_at_200_calls_a_tick_opens_no_incident() -> None:
    draw = random.Random(9)
    rig = HealthRig()
    for _ in range(4 * 60):
        calls = [FAILED_CALL if draw.random() < 0.01 else OK_CALL for _ in range(200)]
        assert await rig.tick(calls=calls) is UP
    assert await rig.book.incidents("water", 5) == []


async def test_a_rate_limited_probe_is_degraded_never_down() -> None:
    """A 429 is an answer: the agency is there, limiting us. With calls getting through or
    with no traffic at all, the probe answered 429 every tick is DEGRADED, never DOWN."""
    quiet, busy = HealthRig(), HealthRig()
    await quiet.ticks(4)
    await busy.ticks(4, calls=[OK_CALL] * 5)
    limited = await quiet.ticks(20, probe=Failure.RATE_LIMITED)
    limited_busy = await busy.ticks(20, probe=Failure.RATE_LIMITED, calls=[OK_CALL] * 5)
    for states in (limited, limited_busy):
        assert DOWN not in states
        assert states[1:] == [DEGRADED] * 19  # from the second tick on: twice running


async def test_a_probe_failing_every_other_tick_is_degraded_not_down() -> None:
    rig = HealthRig()
    await rig.ticks(20)
    states = []
    for n in range(60):
        states.append(await rig.tick(probe=Failure.REFUSED if n % 2 == 0 else None))
    assert DOWN not in states  # every other probe answers: never two silent ticks running
    assert states[20:] == [DEGRADED] * 40  # once the last 5 minutes are half failures
    [incident] = await rig.book.incidents("water", 10)
    assert incident.ended_at is None and incident.worst is DEGRADED


async def test_flapping_four_minutes_in_five_is_down_then_degraded_until_it_stops() -> None:
    """Down 4 minutes of every 5 with 15 s ticks: each down stretch is DOWN from its second
    tick; after the first outage the agency is UP within two ticks, but once outages recur
    the earlier ones keep the minute between DEGRADED; availability shows the flapping."""
    rig = HealthRig()
    await rig.ticks(20)
    cycles = []
    for _ in range(3):
        down = await rig.ticks(16, probe=Failure.REFUSED)
        up = await rig.ticks(4)
        cycles.append((down, up))
    assert cycles[0] == ([UP] + [DOWN] * 15, [DEGRADED, UP, UP, UP])
    for down, up in cycles[1:]:
        assert down == [DEGRADED] + [DOWN] * 15
        assert up == [DEGRADED, DEGRADED, DEGRADED, UP]
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
    assert rig.gauge("panjereh_agency_maintenance", agency="water") == 0  # not planned
    assert rig.gauge("panjereh_agency_announced_maintenance", agency="water") == 1
    assert rig.gauge("panjereh_agency_up", agency="water") == 0
    assert await rig.ticks(2) == [UP, UP]  # maintenance samples are no failures
    assert (await rig.book.snapshot("water")).maintenance is None
    assert rig.gauge("panjereh_agency_announced_maintenance", agency="water") == 0


async def test_an_agency_still_failing_when_its_maintenance_ends_is_down_at_once() -> None:
    rig = HealthRig()
    await rig.ticks(4)
    await rig.ticks(3, maintenance=True, retry_after=30)
    assert await rig.tick(probe=Failure.REFUSED) is DOWN


async def test_calls_answered_503_with_retry_after_are_the_agencys_maintenance() -> None:
    """/health says ok while the API answers 503 + Retry-After: citizens get
    AGENCY_MAINTENANCE, so the agency is MAINTENANCE (origin agency) and stays so while
    calls are held back, until the time it named or until a call succeeds."""
    rig = HealthRig()
    await rig.ticks(4, calls=[OK_CALL])
    back_at = rig.clock() + 15 + 300
    said = Call(ok=False, maintenance=True, back_at=back_at)
    assert await rig.tick(calls=[said, said, OK_CALL]) is MAINTENANCE
    snapshot = await rig.book.snapshot("water")
    assert snapshot.state is MAINTENANCE and snapshot.maintenance is not None
    assert (snapshot.maintenance.origin, snapshot.maintenance.ends_at) == ("agency", back_at)
    assert rig.gauge("panjereh_agency_announced_maintenance", agency="water") == 1
    assert rig.gauge("panjereh_agency_maintenance", agency="water") == 0
    assert await rig.ticks(3) == [MAINTENANCE] * 3  # no call made: the probe's ok is not it
    assert await rig.tick(calls=[OK_CALL]) is UP  # a call got through: over
    assert await rig.book.incidents(None, 5) == []

    await rig.tick(calls=[said])
    rig.clock.advance(back_at - rig.clock())
    assert await rig.tick() is UP  # past the time it named


async def test_an_announced_maintenance_is_not_planned_for_alerting_but_a_window_is() -> None:
    calendar = Calendar()
    rig = HealthRig(calendar=calendar)
    await rig.ticks(2)
    now = rig.clock()
    calendar.windows.append(MaintenanceWindow("water", now, now + 600, origin="ops"))
    assert await rig.tick(maintenance=True, retry_after=600) is MAINTENANCE  # both: planned
    assert rig.gauge("panjereh_agency_maintenance", agency="water") == 1
    assert rig.gauge("panjereh_agency_announced_maintenance", agency="water") == 0
    other = HealthRig(clock=rig.clock, store=rig.store)  # another instance reads it
    await other.book.refresh()
    assert other.gauge("panjereh_agency_maintenance", agency="water") == 1
    assert other.gauge("panjereh_agency_announced_maintenance", agency="water") == 0


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
    assert rig.gauge("panjereh_agency_maintenance", agency="water") == 1


async def test_a_window_set_now_is_maintenance_at_once_and_on_the_next_tick() -> None:
    """Ops schedule a window that is already running: the snapshot says MAINTENANCE with it
    at once (not UP with a current window), and the next tick records and publishes it."""
    calendar = Calendar()
    rig = HealthRig(calendar=calendar)
    await rig.ticks(3)
    changes = rig.book.changes()
    rig.clock.advance(5)
    window = MaintenanceWindow("water", rig.clock() - 60, rig.clock() + 600, origin="ops")
    calendar.windows.append(window)
    snapshot = await rig.book.snapshot("water")
    assert (snapshot.state, snapshot.maintenance) == (MAINTENANCE, window)
    assert snapshot.since == rig.clock() - 5  # from the last judgement, which did not know it
    [listed] = [s for s in await rig.book.snapshots() if s.agency == "water"]
    assert listed.state is MAINTENANCE
    assert await rig.tick(interval=10) is MAINTENANCE
    change = await asyncio.wait_for(changes.__anext__(), 1)
    assert (change.old, change.new, change.at) == (UP, MAINTENANCE, snapshot.since)
    assert (await rig.book.snapshot("water")).since == snapshot.since
    await changes.aclose()


async def test_maintenance_closes_an_incident_and_trouble_after_it_opens_another() -> None:
    rig = HealthRig()
    await rig.ticks(2)
    await rig.ticks(3, probe=Failure.SERVER_ERROR)
    assert await rig.tick(maintenance=True, retry_after=60) is MAINTENANCE
    [closed] = await rig.book.incidents("water", 5)
    assert closed.ended_at == rig.clock()
    assert await rig.tick(probe=Failure.MALFORMED) is DOWN  # nothing answered before it
    newest, older = await rig.book.incidents("water", 5)
    assert older == closed and newest.ended_at is None
    assert newest.failures == {Failure.MALFORMED: 1}


async def test_incidents_count_calls_and_probes_and_list_newest_first() -> None:
    rig = HealthRig()
    await rig.ticks(20, "gas")
    await rig.ticks(20, "water")
    timeouts = [Call(ok=False, failure=Failure.TIMEOUT, seconds=2.0)] * 3
    assert await rig.tick("water", probe=Failure.REFUSED, calls=timeouts) is DEGRADED
    await rig.tick("water", probe=Failure.REFUSED, calls=[Call(False, Failure.RATE_LIMITED)])
    await rig.ticks(4, "water")
    assert await rig.ticks(2, "gas", probe=Failure.SERVER_ERROR) == [UP, DOWN]
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
    await rig.tick(probe=Failure.TIMEOUT)
    assert await rig.tick(probe=Failure.TIMEOUT, calls=[OK_CALL]) is DEGRADED  # twice running
    assert await rig.tick(probe=Failure.TIMEOUT) is DEGRADED  # the call answered last tick
    assert await rig.tick(probe=Failure.TIMEOUT) is DOWN


async def test_another_instance_and_a_restart_read_the_shared_state() -> None:
    first = HealthRig()
    await first.ticks(20)
    await first.ticks(3, probe=Failure.REFUSED)
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
