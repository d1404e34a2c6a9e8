"""Per-agency resilience policy: one frozen value object, variants made with `replace()`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.pipeline.breaker import BreakerPolicy
from connectors.pipeline.retry_budget import RetryBudgetPolicy

__all__ = ["AgencyPolicy"]


@dataclass(frozen=True, slots=True)
class AgencyPolicy:
    """How patiently an agency is called and how long its answers are kept.

    Times are seconds. `timeout` bounds one attempt and is further cut to the request's time left.
    `fresh_ttl` is how long an answer is served without asking again; `stale_ttl` how long it is
    kept to be served, marked stale, while the agency fails; `kind_ttls` gives one kind of data
    (an operation's kind) windows of its own, e.g. vehicles for a day but fines for minutes. In
    the last `refresh_ahead` part of the fresh window an answer is served and refreshed in the
    background. A caller holding a stale copy waits at most `stale_grace_s` for the agency before
    it is served the copy (the agency call goes on and refreshes the cache if it succeeds).
    `max_concurrent` is the bulkhead: at most that many calls to this agency are in flight, so a
    hanging agency cannot take every connection and task from the others. `max_body_bytes`
    bounds what is read of one answer: an agency (or whatever sits in front of it) that sends
    more is answering in an unexpected format, and the gateway's memory is not its to take.
    """

    timeout: float = 3.0
    max_attempts: int = 3
    backoff_initial: float = 0.05
    backoff_max: float = 1.0
    max_retry_after: float = 2.0
    fresh_ttl: float = 300.0
    stale_ttl: float = 86_400.0
    not_found_ttl: float = 60.0
    kind_ttls: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    refresh_ahead: float = 0.2
    stale_grace_s: float = 1.0
    max_concurrent: int = 32
    max_body_bytes: int = 4 * 1024 * 1024
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    retry_budget: RetryBudgetPolicy = field(default_factory=RetryBudgetPolicy)

    def __post_init__(self) -> None:
        if min(self.timeout, self.max_attempts, self.max_concurrent, self.max_body_bytes) <= 0:
            raise ValueError(
                "timeout, max_attempts, max_concurrent and max_body_bytes must be positive"
            )
        for fresh, stale in (self.windows(kind) for kind in (None, *self.kind_ttls)):
            if stale < fresh:
                raise ValueError("a stale window must not be shorter than its fresh window")

    def windows(self, kind: str | None) -> tuple[float, float]:
        """(fresh, stale) seconds for one kind of data: its own entry in `kind_ttls`, else the
        agency's `fresh_ttl` and `stale_ttl`."""
        if kind in self.kind_ttls:
            fresh, stale = self.kind_ttls[kind]
            return float(fresh), float(stale)
        return self.fresh_ttl, self.stale_ttl

    def replace(self, **changes: Any) -> AgencyPolicy:
        return dataclasses.replace(self, **changes)

    def with_overrides(self, overrides: Mapping[str, Any]) -> AgencyPolicy:
        """This policy with settings from configuration, e.g. `{"timeout": 1.5, "breaker":
        {"open_s": 5}}`; an unknown name raises ValueError naming it."""
        changes: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in _FIELDS:
                raise ValueError(f"unknown agency policy setting {name!r}")
            current = getattr(self, name)
            if dataclasses.is_dataclass(current):
                known = {f.name for f in dataclasses.fields(current)}
                if not isinstance(value, Mapping) or not set(value) <= known:
                    raise ValueError(f"{name} takes a mapping of {', '.join(sorted(known))}")
                changes[name] = dataclasses.replace(current, **value)  # type: ignore[type-var]
            else:
                changes[name] = value
        return self.replace(**changes)


_FIELDS = frozenset(f.name for f in dataclasses.fields(AgencyPolicy))
