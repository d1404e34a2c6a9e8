"""A per-agency retry budget: retries stay a bounded fraction of recent calls.

Without it, every caller retrying a failing agency multiplies its load exactly when it can least
take it. With it, retries in the last `window_s` seconds never exceed `min_retries` plus `ratio`
times the calls made in that window (the approach of gRPC's and Finagle's retry budgets).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RetryBudget", "RetryBudgetPolicy"]


@dataclass(frozen=True, slots=True)
class RetryBudgetPolicy:
    ratio: float = 0.2
    min_retries: int = 5
    window_s: float = 10.0


class RetryBudget:
    """Counts calls and retries of one agency over a sliding window."""

    def __init__(
        self, policy: RetryBudgetPolicy, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._calls: deque[float] = deque()
        self._retries: deque[float] = deque()

    def record_call(self) -> None:
        """A logical call (its first attempt) was made."""
        self._calls.append(self._clock())

    def try_spend(self) -> bool:
        """Take one retry from the budget; False when it is spent."""
        now = self._clock()
        horizon = now - self.policy.window_s
        for times in (self._calls, self._retries):
            while times and times[0] < horizon:
                times.popleft()
        allowed = self.policy.min_retries + self.policy.ratio * len(self._calls)
        if len(self._retries) >= allowed:
            return False
        self._retries.append(now)
        return True
