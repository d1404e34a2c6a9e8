"""Keep N worker processes running; stop them all, gracefully, when asked.

The logic only: processes come from an injected `spawn(slot)` (workers.processes starts real
ones), time from an injected clock and `sleep`, so the restart and stop rules are tested without
starting anything. A slot is a worker's place (0 … N-1): its replacement takes the same slot.

Rules:
- a worker that exits while the supervisor is not stopping is replaced in the same slot, after a
  back-off that doubles with each consecutive failure of the slot (`RestartPolicy`), so a crash
  loop does not spin; a worker that stayed up `stable_after_s` after becoming ready clears it;
- a worker that exits before it is ready (bound its socket) failed to start; after
  `max_start_failures` such failures in a row in one slot the supervisor gives up: it stops the
  others and returns 1 (the configuration, the port or the host is wrong, not one request);
- `stop(signum)` forwards the signal to every live worker (each runs its own graceful shutdown),
  waits up to `timeout_s` for them to exit, then SIGKILLs the stragglers; a second stop request
  while waiting (a second Ctrl-C) kills them at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Protocol

__all__ = ["RestartPolicy", "StopRequest", "Supervisor", "WorkerProcess", "describe_exit"]

log = logging.getLogger("panjereh.workers")


class WorkerProcess(Protocol):
    """A started worker, as the supervisor sees it."""

    @property
    def pid(self) -> int: ...

    def exit_code(self) -> int | None:
        """The exit status once it has exited (negative: killed by that signal), else None."""

    def is_ready(self) -> bool:
        """Whether it has said it is serving (never blocks)."""

    def send_signal(self, signum: int) -> None: ...

    def kill(self) -> None: ...

    def close(self) -> None:
        """Release what the supervisor held for it, once it has exited."""


@dataclass(frozen=True)
class RestartPolicy:
    """When to replace a dead worker, and when to give up."""

    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    stable_after_s: float = 30.0
    max_start_failures: int = 5

    def delay(self, failures: int) -> float:
        """Back-off before the next start after `failures` consecutive failures (≥ 1)."""
        return min(self.max_delay_s, self.first_delay_s * 2 ** max(0, failures - 1))


class StopRequest:
    """SIGTERM/SIGINT to the supervisor, noted by the handler and read by the loop (a signal
    handler must not do more than note it: the loop may be anywhere). Once installed, `wait`
    returns as soon as a signal arrives (the interpreter writes it to a wakeup pipe), so the
    signal is forwarded at once rather than at the next tick."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.count = 0
        self._wakeup: int | None = None

    def install(self) -> None:
        read_end, write_end = os.pipe()
        for end in (read_end, write_end):
            os.set_blocking(end, False)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        self._wakeup = read_end
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def wait(self, timeout_s: float) -> None:
        """Sleep `timeout_s`, less if a signal arrives."""
        if self._wakeup is None:
            time.sleep(timeout_s)
            return
        ready, _, _ = select.select([self._wakeup], [], [], timeout_s)
        if ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wakeup, 512)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.request(signum)

    def request(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
        self.count += 1


@dataclass
class _Slot:
    process: WorkerProcess | None = None
    started_at: float = 0.0
    ready_at: float | None = None
    failures: int = 0
    start_failures: int = 0
    restart_at: float | None = None


class Supervisor:
    """N slots, each holding a running worker or waiting to start one."""

    def __init__(
        self,
        count: int,
        spawn: Callable[[int], WorkerProcess],
        *,
        policy: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_started: Callable[[int, int], None] = lambda slot, pid: None,
        on_exited: Callable[[int, int, int], None] = lambda slot, pid, code: None,
    ) -> None:
        if count < 1:
            raise ValueError("a supervisor needs at least one worker")
        self._spawn = spawn
        self._policy = policy or RestartPolicy()
        self._clock = clock
        self._sleep = sleep
        self._on_started = on_started
        self._on_exited = on_exited
        self._slots = [_Slot() for _ in range(count)]
        self._stopping = False
        self.failure: str | None = None

    @property
    def pids(self) -> dict[int, int]:
        """Slot → pid of every worker not yet seen to exit."""
        return {i: s.process.pid for i, s in enumerate(self._slots) if s.process is not None}

    @property
    def all_ready(self) -> bool:
        return all(s.process is not None and s.ready_at is not None for s in self._slots)

    def start(self) -> None:
        for slot in range(len(self._slots)):
            self._start(slot)

    def poll(self) -> None:
        """Notice readiness and exits; start the replacements that are due."""
        now = self._clock()
        for slot, state in enumerate(self._slots):
            process = state.process
            if process is not None:
                if state.ready_at is None and process.is_ready():
                    state.ready_at = now
                    state.start_failures = 0
                code = process.exit_code()
                if code is not None:
                    self._exited(slot, state, code, now)
            if (
                state.process is None
                and state.restart_at is not None
                and now >= state.restart_at
                and not self._stopping
                and self.failure is None
            ):
                self._start(slot)

    def run(
        self,
        stop: StopRequest,
        *,
        timeout_s: float,
        tick_s: float = 0.1,
        on_ready: Callable[[], None] = lambda: None,
        check: Callable[[], str | None] = lambda: None,
    ) -> int:
        """Start the workers and keep them running until asked to stop (0 after a clean stop)
        or until giving up (1). `on_ready` runs once, when every worker first is ready; `check`
        names a reason to stop everything (e.g. a dependency died), or returns None."""
        self.start()
        announced = False
        while stop.signum is None and self.failure is None:
            self.poll()
            if self.failure is None:
                self.failure = check()
            if not announced and self.all_ready:
                announced = True
                on_ready()
            self._sleep(tick_s)
        if self.failure is not None:
            log.error("stopping all workers: %s", self.failure)
            self.stop(signal.SIGTERM, timeout_s=timeout_s, request=stop)
            return 1
        return 0 if self.stop(stop.signum or signal.SIGTERM, timeout_s, request=stop) else 1

    def stop(self, signum: int, timeout_s: float, *, request: StopRequest | None = None) -> bool:
        """Forward `signum` to every live worker and wait for them; SIGKILL those still running
        after `timeout_s` (or at a further stop request). True if every worker exited by itself
        with status 0."""
        self._stopping = True
        clean = True
        asked = request.count if request is not None else 0
        for process in self._live():
            process.send_signal(signum)
        deadline = self._clock() + timeout_s
        while self._live() and self._clock() < deadline:
            if request is not None and request.count > asked:
                log.warning("asked again: killing the workers still running")
                break
            self._sleep(0.05)
            clean = self._reap() and clean
        stragglers = self._live()
        for process in stragglers:
            log.error("worker pid %d did not stop within %.0f s: killed", process.pid, timeout_s)
            process.kill()
        kill_deadline = self._clock() + 5.0
        while self._live() and self._clock() < kill_deadline:
            self._sleep(0.05)
            self._reap()
        return clean and not stragglers

    def _live(self) -> list[WorkerProcess]:
        return [s.process for s in self._slots if s.process is not None]

    def _reap(self) -> bool:
        """Notice exits while stopping; False if one exited with a status other than 0."""
        clean = True
        now = self._clock()
        for slot, state in enumerate(self._slots):
            if state.process is not None:
                code = state.process.exit_code()
                if code is not None:
                    clean = clean and code == 0
                    self._exited(slot, state, code, now)
        return clean

    def _start(self, slot: int) -> None:
        state = self._slots[slot]
        state.process = process = self._spawn(slot)
        state.started_at = self._clock()
        state.ready_at = None
        state.restart_at = None
        self._on_started(slot, process.pid)

    def _exited(self, slot: int, state: _Slot, code: int, now: float) -> None:
        process = state.process
        assert process is not None
        state.process = None
        process.close()
        self._on_exited(slot, process.pid, code)
        if self._stopping:
            log.info("worker %d (pid %d) %s", slot, process.pid, describe_exit(code))
            return
        policy = self._policy
        if state.ready_at is None:
            state.start_failures += 1
        elif now - state.ready_at >= policy.stable_after_s:
            state.failures = 0
        state.failures += 1
        if state.start_failures >= policy.max_start_failures:
            self.failure = (
                f"worker {slot} failed to start {state.start_failures} times in a row "
                f"(last: {describe_exit(code)})"
            )
            return
        delay = policy.delay(state.failures)
        state.restart_at = now + delay
        when = "before it was ready" if state.ready_at is None else "while serving"
        log.warning(
            "worker %d (pid %d) %s %s; replacing it in %.1f s",
            slot,
            process.pid,
            describe_exit(code),
            when,
            delay,
        )


def describe_exit(code: int) -> str:
    """`exited with status 1`, `killed by SIGKILL`."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"
