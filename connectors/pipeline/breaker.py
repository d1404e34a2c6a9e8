"""Per-agency circuit breaker over a sliding window of recent attempts.

    CLOSED ──(≥ min_calls in window and failure rate ≥ threshold)──▶ OPEN
    OPEN ──(open time, with jitter, elapsed)──▶ HALF_OPEN
    HALF_OPEN ──(probe_calls successes)──▶ CLOSED
    HALF_OPEN ──(any probe fails)──▶ OPEN

State lives in this object, one per agency per gateway process: each instance judges the agency
from its own calls. While OPEN no attempt is made: `before_call` raises `CircuitOpen` at once.
Written by hand because pybreaker is synchronous and wall-clock based, and aiobreaker counts
consecutive failures rather than a failure rate over a window.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from domain.errors import CircuitOpen

__all__ = ["BreakerPolicy", "CircuitBreaker", "CircuitState"]


class CircuitState(IntEnum):
    """Numeric values are the `agency_circuit_state` gauge's."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a circuit opens and how it tries to close again."""

    window_s: float = 30.0
    min_calls: int = 10
    failure_rate: float = 0.5
    open_s: float = 15.0
    open_jitter: float = 0.2
    probe_calls: int = 2
    min_verdict_s: float = 1.0
    """An attempt cut short by the caller's deadline before this long says nothing of the
    agency; one that had at least this long and still timed out counts as a failure."""


Listener = Callable[[str, CircuitState, CircuitState], None]


class CircuitBreaker:
    """Decides, attempt by attempt, whether an agency may be called."""

    def __init__(
        self,
        agency: str,
        policy: BreakerPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        listener: Listener | None = None,
    ) -> None:
        self.agency = agency
        self.policy = policy
        self._clock = clock
        self._rng = rng or random.Random()
        self._listener = listener
        self._state = CircuitState.CLOSED
        self._forced: CircuitState | None = None
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._failures = 0  # failures among `_outcomes`, kept so `record` is O(1) amortised
        self._open_until = 0.0
        self._probes_started = 0
        self._probes_ok = 0

    @property
    def state(self) -> CircuitState:
        if self._forced is not None:
            return self._forced
        if self._state is CircuitState.OPEN and self._clock() >= self._open_until:
            self._move(CircuitState.HALF_OPEN)
        return self._state

    @property
    def forced(self) -> bool:
        return self._forced is not None

    def retry_in(self) -> float:
        """Seconds until the circuit will let a probe through (0 when not open)."""
        if self.state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self._open_until - self._clock())

    def before_call(self) -> None:
        """Admit an attempt, or raise `CircuitOpen` without calling the agency."""
        state = self.state
        if state is CircuitState.CLOSED:
            return
        probes_left = self._probes_started < self.policy.probe_calls
        if state is CircuitState.HALF_OPEN and self._forced is None and probes_left:
            self._probes_started += 1
            return
        raise CircuitOpen(
            self.agency,
            f"{self.agency} is failing; its circuit is open",
            retry_after=self.retry_in() or None,
        )

    def record(self, ok: bool) -> None:
        """Count the outcome of an admitted attempt (business errors are not failures)."""
        if self._forced is not None:
            return
        if self._state is CircuitState.HALF_OPEN:
            if not ok:
                self._open()
                return
            self._probes_ok += 1
            if self._probes_ok >= self.policy.probe_calls:
                self._move(CircuitState.CLOSED)
            return
        now = self._clock()
        self._outcomes.append((now, ok))
        self._failures += not ok
        horizon = now - self.policy.window_s
        while self._outcomes and self._outcomes[0][0] < horizon:
            _, good = self._outcomes.popleft()
            self._failures -= not good
        calls = len(self._outcomes)
        enough = calls >= self.policy.min_calls
        if (
            self._state is CircuitState.CLOSED
            and enough
            and self._failures / calls >= self.policy.failure_rate
        ):
            self._open()

    def abandon(self) -> None:
        """An admitted attempt ended without a verdict (cancelled, or cut short by the caller's
        deadline): free its half-open probe slot without counting it either way."""
        if self._state is CircuitState.HALF_OPEN and self._probes_started > self._probes_ok:
            self._probes_started -= 1

    def force(self, state: CircuitState | None) -> None:
        """Ops override: hold the circuit OPEN or CLOSED, or release it (None). The listener
        hears every override, even one that leaves the state as it was (it was forced)."""
        before = self.state
        self._forced = state
        if state is None:
            self._move(CircuitState.CLOSED, notify=False)
        if self._listener:
            self._listener(self.agency, before, self.state)

    def _open(self) -> None:
        p = self.policy
        jitter = 1 + self._rng.uniform(-p.open_jitter, p.open_jitter)
        self._open_until = self._clock() + p.open_s * jitter
        self._move(CircuitState.OPEN)

    def _move(self, new: CircuitState, *, notify: bool = True) -> None:
        old = self._state
        self._state = new
        self._probes_started = self._probes_ok = 0
        if new is CircuitState.CLOSED:
            self._outcomes.clear()
            self._failures = 0
        if notify and old != new and self._listener:
            self._listener(self.agency, old, new)
