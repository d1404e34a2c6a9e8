"""The request's one deadline, visible to every agency call made on its behalf.

It lives in a context variable: the GraphQL view sets it once per request, and the tasks that
graphql-core and the DataLoaders create for resolvers inherit it, so a connector deep in the call
tree sees the time left without it being threaded through every signature.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Deadline", "current_deadline", "set_deadline"]


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on the monotonic clock after which no agency call may still be running."""

    expires_at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()


_current: ContextVar[Deadline | None] = ContextVar("panjereh_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline of the request being served, if any."""
    return _current.get()


def set_deadline(deadline: Deadline | None) -> None:
    """Set the deadline for the current context and the tasks it spawns from now on."""
    _current.set(deadline)
