"""Circuit breaker transitions on a fake clock."""

from __future__ import annotations

import random

import pytest

from connectors.pipeline.breaker import BreakerPolicy, CircuitBreaker, CircuitState
from domain.errors import CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


POLICY = BreakerPolicy(window_s=10, min_calls=4, failure_rate=0.5, open_s=5, open_jitter=0.2,
                       probe_calls=2)  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def changes() -> list[tuple[CircuitState, CircuitState]]:
    return []


@pytest.fixture
def breaker(clock: Clock, changes: list) -> CircuitBreaker:
    return CircuitBreaker(
        "water", POLICY, clock=clock, rng=random.Random(1),
        listener=lambda agency, old, new: changes.append((old, new)),
    )  # fmt: skip


def _fail(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        breaker.before_call()
        breaker.record(False)


def test_stays_closed_below_the_minimum_number_of_calls(breaker: CircuitBreaker) -> None:
    _fail(breaker, 3)
    assert breaker.state is CircuitState.CLOSED


def test_opens_at_the_failure_rate_and_refuses_at_once(breaker: CircuitBreaker, changes) -> None:
    breaker.record(True)
    breaker.record(True)
    _fail(breaker, 2)
    assert breaker.state is CircuitState.OPEN
    assert changes == [(CircuitState.CLOSED, CircuitState.OPEN)]
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_call()
    assert raised.value.agency == "water"
    assert 4.0 <= raised.value.retry_after <= 6.0


def test_successes_keep_it_closed(breaker: CircuitBreaker) -> None:
    for _ in range(10):
        breaker.record(True)
    _fail(breaker, 3)
    assert breaker.state is CircuitState.CLOSED


def test_old_outcomes_leave_the_window(breaker: CircuitBreaker, clock: Clock) -> None:
    _fail(breaker, 3)
    clock.now += 11
    breaker.record(False)
    assert breaker.state is CircuitState.CLOSED


def test_half_open_admits_a_bounded_number_of_probes_then_closes(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    _fail(breaker, 4)
    clock.now += 6.1  # past open_s with the largest jitter
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.before_call()
    breaker.before_call()
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # a third concurrent probe is refused
    breaker.record(True)
    breaker.record(True)
    assert breaker.state is CircuitState.CLOSED


def test_a_failed_probe_opens_it_again(breaker: CircuitBreaker, clock: Clock) -> None:
    _fail(breaker, 4)
    clock.now += 6.1
    breaker.before_call()
    breaker.record(False)
    assert breaker.state is CircuitState.OPEN


def test_open_time_is_jittered() -> None:
    ends = set()
    for seed in range(5):
        clock = Clock()
        b = CircuitBreaker("gas", POLICY, clock=clock, rng=random.Random(seed))
        _fail(b, 4)
        ends.add(round(b.retry_in(), 3))
    assert len(ends) > 1 and all(4.0 <= e <= 6.0 for e in ends)


def test_ops_can_force_and_release(breaker: CircuitBreaker) -> None:
    breaker.force(CircuitState.OPEN)
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    breaker.force(CircuitState.CLOSED)
    _fail(breaker, 10)
    assert breaker.state is CircuitState.CLOSED  # forced closed ignores failures
    breaker.force(None)
    assert breaker.state is CircuitState.CLOSED and not breaker.forced


def test_every_override_and_its_release_reach_the_listener(
    breaker: CircuitBreaker, changes: list
) -> None:
    """The gauges follow the listener: releasing a forced OPEN must say CLOSED again (it used to
    stay silent, leaving `agency_circuit_state` at 2), and forcing CLOSED must be heard too."""
    breaker.force(CircuitState.OPEN)
    breaker.force(None)
    breaker.force(CircuitState.CLOSED)
    assert changes == [
        (CircuitState.CLOSED, CircuitState.OPEN),
        (CircuitState.OPEN, CircuitState.CLOSED),
        (CircuitState.CLOSED, CircuitState.CLOSED),
    ]


def test_an_abandoned_probe_frees_its_slot(breaker: CircuitBreaker, clock: Clock) -> None:
    _fail(breaker, 4)
    clock.now += 6.1
    breaker.before_call()
    breaker.before_call()
    breaker.abandon()  # e.g. the client went away mid-probe
    breaker.before_call()  # a slot is free again
    with pytest.raises(CircuitOpen):
        breaker.before_call()
