"""The request's one deadline, handed explicitly to every agency call made on its behalf.

It is made when an operation starts (`schema/extensions/operation_scope.py`), kept in the
per-request context and its loaders, and passed down as an argument: loaders → `@operation` →
the flight → `request()` → each attempt's timeout and the retry loop's stop. No module-level
state holds it, so two requests (or two WebSocket operations) can never see each other's.

It also carries the request's id, which goes the same way to every attempt's `X-Request-Id`:
whatever holds a request's deadline holds its id, and a connector that hands its deadline on
(as every one must) cannot forget the id.
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

    The clock is injectable so tests can move time instead of waiting for it. `request_id` is
    the id of the request the deadline belongs to (None: no request's, and no header sent).
    """

    expires_at: float
    clock: Clock = field(default=time.monotonic, compare=False, repr=False)
    request_id: str | None = None

    @classmethod
    def after(
        cls, seconds: float, *, clock: Clock = time.monotonic, request_id: str | None = None
    ) -> Deadline:
        return cls(clock() + seconds, clock, request_id)

    def remaining(self) -> float:
        return self.expires_at - self.clock()
