"""The operations an agency was recently asked for, so they can be run again before it goes away.

    OperationRunner.run(kind, subject, load) ──note──▶ RecentOperations (per agency, in memory)
    pre-window refresh (observability.maintenance) ──due()──▶ runner.refresh(...) for each

What is kept is what `run` already holds: the kind, the subject and the `load` that fetches it.
A subject is a citizen's identity (a national code, a mobile number): it stays in this process's
memory, is bounded in count and age, and is never logged, put in a cache key or a metric label.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from connectors.pipeline.deadline import Clock

__all__ = ["RecentLimits", "RecentOperation", "RecentOperations"]


@dataclass(frozen=True, slots=True)
class RecentLimits:
    """At most `max_entries` operations per agency, each forgotten `max_age_s` after its use."""

    max_entries: int = 2000
    max_age_s: float = 12 * 3600

    def __post_init__(self) -> None:
        if self.max_entries < 1 or self.max_age_s <= 0:
            raise ValueError("max_entries and max_age_s must be positive")


@dataclass(frozen=True, slots=True)
class RecentOperation:
    """One operation as `OperationRunner.refresh` runs it again."""

    kind: str
    subject: str
    load: Callable[[Any], Awaitable[Any]]
    adapter: TypeAdapter[Any]
    used_at: float


class RecentOperations:
    """A bounded, least-recently-used record of one agency's operations; `clock` is the
    pipeline's monotonic clock. Uses are noted only while `wanted()` (e.g. while the agency has
    a maintenance window planned): nothing is held for agencies that never need it."""

    def __init__(
        self, limits: RecentLimits, *, clock: Clock, wanted: Callable[[], bool] | None = None
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._wanted = wanted
        self._entries: OrderedDict[tuple[str, str], RecentOperation] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def note(
        self,
        kind: str,
        subject: str,
        load: Callable[[Any], Awaitable[Any]],
        adapter: TypeAdapter[Any],
    ) -> None:
        """Remember this use (cheap: called on every operation, cache hits included)."""
        if self._wanted is not None and not self._wanted():
            return
        key = (kind, subject)
        self._entries[key] = RecentOperation(kind, subject, load, adapter, self._clock())
        self._entries.move_to_end(key)
        if len(self._entries) > self.limits.max_entries:
            self._entries.popitem(last=False)

    def due(self) -> list[RecentOperation]:
        """The operations used within `max_age_s`, most recent first; older ones are dropped."""
        oldest = self._clock() - self.limits.max_age_s
        while self._entries:
            first = next(iter(self._entries.values()))
            if first.used_at >= oldest:
                break
            self._entries.popitem(last=False)
        return list(reversed(self._entries.values()))
