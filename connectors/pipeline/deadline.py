"""The request's one deadline, handed explicitly to every agency call made on its behalf.

It is made when an operation starts (`schema/extensions/operation_scope.py`), kept in the
per-request context and its loaders, and passed down as an argument: loaders → `@operation` →
the flight → `request()` → each attempt's timeout and the retry loop's stop. No module-level
state holds it, so two requests (or two WebSocket operations) can never see each other's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Clock", "Deadline"]

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on a monotonic clock after which no agency call may still be running.

    The clock is injectable so tests can move time instead of waiting for it.
    """

    expires_at: float
    clock: Clock = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, *, clock: Clock = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        return self.expires_at - self.clock()
