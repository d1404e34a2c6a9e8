"""The supervisor's rules with scripted processes and a fake clock: replacement in the same slot,
back-off, giving up on workers that never start, graceful stop and the kill after the bound."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field

import pytest

from workers.supervisor import RestartPolicy, StopRequest, Supervisor, describe_exit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeWorker:
    """A process that does what the test says: becomes ready, exits, obeys signals (or not)."""

    pid: int
    slot: int
    clock: Clock
    obeys_term: bool = True
    stop_takes_s: float = 0.2
    code: int | None = None
    ready: bool = False
    signals: list[int] = field(default_factory=list)
    exit_at: float | None = None
    exit_code_after_term: int = 0
    closed: bool = False

    def exit_code(self) -> int | None:
        if self.code is None and self.exit_at is not None and self.clock() >= self.exit_at:
            self.code = self.exit_code_after_term
        return self.code

    def is_ready(self) -> bool:
        return self.ready

    def send_signal(self, signum: int) -> None:
        self.signals.append(signum)
        if self.obeys_term and self.exit_at is None:
            self.exit_at = self.clock() + self.stop_takes_s

    def kill(self) -> None:
        self.signals.append(signal.SIGKILL)
        self.code = -signal.SIGKILL

    def close(self) -> None:
        self.closed = True


class Factory:
    """`spawn(slot)`: every worker it made, in order; `ready_on_start` makes them ready at once."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.made: list[FakeWorker] = []
        self.ready_on_start = True
        self.dies_at_start = False
        self.obeys_term = True

    def __call__(self, slot: int) -> FakeWorker:
        worker = FakeWorker(
            pid=100 + len(self.made), slot=slot, clock=self.clock, obeys_term=self.obeys_term
        )
        worker.ready = self.ready_on_start
        if self.dies_at_start:
            worker.ready, worker.code = False, 3
        self.made.append(worker)
        return worker

    def live(self, slot: int) -> FakeWorker:
        return [w for w in self.made if w.slot == slot][-1]


POLICY = RestartPolicy(
    first_delay_s=0.5, max_delay_s=4.0, stable_after_s=30.0, max_start_failures=4
)


def make(count: int = 2) -> tuple[Supervisor, Factory, Clock, list[tuple[str, int, int]]]:
    clock = Clock()
    factory = Factory(clock)
    events: list[tuple[str, int, int]] = []
    supervisor = Supervisor(
        count,
        factory,
        policy=POLICY,
        clock=clock,
        sleep=clock.sleep,
        on_started=lambda slot, pid: events.append(("started", slot, pid)),
        on_exited=lambda slot, pid, code: events.append(("exited", slot, pid)),
    )
    return supervisor, factory, clock, events


def test_starts_one_worker_per_slot_and_knows_when_all_are_ready() -> None:
    supervisor, factory, _, events = make(3)
    factory.ready_on_start = False
    supervisor.start()
    assert supervisor.pids == {0: 100, 1: 101, 2: 102}
    assert events == [("started", 0, 100), ("started", 1, 101), ("started", 2, 102)]
    supervisor.poll()
    assert not supervisor.all_ready
    for worker in factory.made:
        worker.ready = True
    supervisor.poll()
    assert supervisor.all_ready


def test_a_dead_worker_is_replaced_in_its_slot_after_the_first_delay() -> None:
    supervisor, factory, clock, events = make()
    supervisor.start()
    supervisor.poll()
    clock.sleep(60)
    factory.made[1].code = -signal.SIGKILL
    supervisor.poll()
    assert supervisor.pids == {0: 100}
    assert factory.made[1].closed and ("exited", 1, 101) in events
    clock.sleep(0.4)
    supervisor.poll()
    assert supervisor.pids == {0: 100}  # not before the back-off
    clock.sleep(0.1)
    supervisor.poll()
    assert supervisor.pids == {0: 100, 1: 102}
    assert events[-1] == ("started", 1, 102)
    assert supervisor.failure is None


def test_a_crash_loop_backs_off_doubling_up_to_the_cap() -> None:
    supervisor, factory, clock, _ = make(1)
    supervisor.start()
    delays = []
    for _ in range(6):
        supervisor.poll()  # ready (serving), then it crashes at once
        factory.live(0).code = 1
        died = clock()
        supervisor.poll()
        while len(supervisor.pids) == 0:
            clock.sleep(0.01)
            supervisor.poll()
        delays.append(round(clock() - died, 1))
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert supervisor.failure is None  # they were serving: not start failures, never give up


def test_a_worker_that_served_long_enough_starts_the_back_off_afresh() -> None:
    supervisor, factory, clock, _ = make(1)
    supervisor.start()
    for _ in range(3):
        supervisor.poll()
        factory.live(0).code = 1
        supervisor.poll()
        clock.sleep(10)
        supervisor.poll()
    supervisor.poll()  # ready
    clock.sleep(POLICY.stable_after_s)
    factory.live(0).code = 1
    died = clock()
    supervisor.poll()
    clock.sleep(0.5)
    supervisor.poll()
    assert len(supervisor.pids) == 1 and clock() - died == pytest.approx(0.5)


def test_workers_that_keep_dying_at_start_make_it_give_up_with_status_1() -> None:
    supervisor, factory, clock, _ = make(2)
    factory.dies_at_start = True
    stop = StopRequest()
    code = supervisor.run(stop, timeout_s=5.0, tick_s=0.1)
    assert code == 1
    assert supervisor.failure is not None and "failed to start 4 times" in supervisor.failure
    assert "exited with status 3" in supervisor.failure
    assert supervisor.pids == {}
    # each slot waited its back-off between tries: 0.5 + 1 + 2 before the fourth failure
    assert clock.now - 1000.0 >= 3.5
    assert len(factory.made) <= 2 * POLICY.max_start_failures


def test_giving_up_stops_the_workers_that_did_start() -> None:
    supervisor, factory, _, _ = make(2)
    original = factory.__call__

    def spawn(slot: int) -> FakeWorker:
        worker = original(slot)
        if slot == 1:  # slot 1 can never bind; slot 0 serves
            worker.ready, worker.code = False, 1
        return worker

    supervisor._spawn = spawn
    assert supervisor.run(StopRequest(), timeout_s=5.0) == 1
    first = factory.made[0]
    assert first.signals == [signal.SIGTERM] and first.code == 0


def test_a_start_failure_count_is_forgotten_once_a_worker_becomes_ready() -> None:
    supervisor, factory, clock, _ = make(1)
    factory.ready_on_start = False
    supervisor.start()
    for _ in range(POLICY.max_start_failures - 1):
        factory.live(0).code = 1
        supervisor.poll()
        clock.sleep(POLICY.max_delay_s)
        supervisor.poll()
    factory.live(0).ready = True
    supervisor.poll()
    # the ready one dies while serving, then its replacements fail to start, one short of
    # the limit (which they would have reached had the earlier failures still counted)
    for _ in range(POLICY.max_start_failures):
        factory.live(0).code = 1
        supervisor.poll()
        clock.sleep(POLICY.max_delay_s)
        supervisor.poll()
    assert supervisor.failure is None and len(supervisor.pids) == 1
    factory.live(0).code = 1  # the limit, counted from the last ready worker
    supervisor.poll()
    assert supervisor.failure is not None


def test_stop_forwards_the_signal_and_waits_for_every_worker() -> None:
    supervisor, factory, _, events = make(2)
    supervisor.start()
    supervisor.poll()
    assert supervisor.stop(signal.SIGINT, timeout_s=5.0)
    assert [w.signals for w in factory.made] == [[signal.SIGINT], [signal.SIGINT]]
    assert supervisor.pids == {}
    assert {e for e in events if e[0] == "exited"} == {("exited", 0, 100), ("exited", 1, 101)}


def test_no_replacement_while_stopping() -> None:
    supervisor, factory, clock, _ = make(2)
    supervisor.start()
    factory.made[0].stop_takes_s = 3.0
    assert supervisor.stop(signal.SIGTERM, timeout_s=5.0)
    clock.sleep(10)
    supervisor.poll()
    assert len(factory.made) == 2


def test_stragglers_are_killed_after_the_bound_and_the_stop_is_not_clean() -> None:
    supervisor, factory, clock, _ = make(2)
    factory.obeys_term = False
    supervisor.start()
    factory.made[0].obeys_term = True
    started = clock()
    assert not supervisor.stop(signal.SIGTERM, timeout_s=2.0)
    assert factory.made[0].signals == [signal.SIGTERM] and factory.made[0].code == 0
    assert factory.made[1].signals == [signal.SIGTERM, signal.SIGKILL]
    assert 2.0 <= clock() - started < 2.2
    assert supervisor.pids == {}


def test_a_worker_exiting_non_zero_while_stopping_makes_the_stop_unclean() -> None:
    supervisor, factory, _, _ = make(2)
    supervisor.start()
    factory.made[1].exit_code_after_term = 1
    assert not supervisor.stop(signal.SIGTERM, timeout_s=5.0)


def test_a_second_request_kills_at_once() -> None:
    supervisor, factory, clock, _ = make(1)
    factory.obeys_term = False
    supervisor.start()
    stop = StopRequest()
    stop.request(signal.SIGINT)
    real_sleep = clock.sleep

    def sleep(seconds: float) -> None:
        real_sleep(seconds)
        if clock() - 1000.0 > 1.0 and stop.count == 1:
            stop.request(signal.SIGINT)  # Ctrl-C again after a second

    supervisor._sleep = sleep
    assert not supervisor.stop(signal.SIGINT, timeout_s=20.0, request=stop)
    assert factory.made[0].signals == [signal.SIGINT, signal.SIGKILL]
    assert clock() - 1000.0 < 2.0


def test_run_returns_0_after_a_clean_stop_and_announces_once() -> None:
    supervisor, factory, _, _ = make(2)
    stop = StopRequest()
    announced: list[dict[int, int]] = []
    ticks = 0

    def check() -> str | None:
        nonlocal ticks
        ticks += 1
        if ticks == 5:
            stop.request(signal.SIGTERM)
        return None

    code = supervisor.run(
        stop, timeout_s=5.0, on_ready=lambda: announced.append(supervisor.pids), check=check
    )
    assert code == 0
    assert announced == [{0: 100, 1: 101}]
    assert all(w.signals == [signal.SIGTERM] for w in factory.made)


def test_run_stops_everything_when_a_check_fails() -> None:
    supervisor, factory, _, _ = make(2)
    code = supervisor.run(StopRequest(), timeout_s=5.0, check=lambda: "the sandbox exited")
    assert code == 1 and supervisor.failure == "the sandbox exited"
    assert all(w.signals == [signal.SIGTERM] for w in factory.made)


def test_exit_descriptions() -> None:
    assert describe_exit(0) == "exited with status 0"
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(2) == "exited with status 2"


def test_back_off_policy() -> None:
    policy = RestartPolicy(first_delay_s=0.25, max_delay_s=3.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.25, 0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_signal_wakes_the_supervisor_at_once_and_is_noted() -> None:
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    stop = StopRequest()
    try:
        stop.install()
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGTERM)).start()
        began = time.monotonic()
        stop.wait(10.0)
        assert time.monotonic() - began < 5.0
        assert stop.signum == signal.SIGTERM and stop.count == 1
        stop.wait(0.01)  # nothing pending: just the timeout
        os.kill(os.getpid(), signal.SIGINT)
        stop.wait(0.01)
        assert stop.signum == signal.SIGTERM and stop.count == 2  # the first one is kept
    finally:
        signal.set_wakeup_fd(-1)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
