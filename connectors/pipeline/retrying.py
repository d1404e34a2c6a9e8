"""Tenacity strategies for agency calls: which failures are retried, how long to wait, when to stop.

Only transient failures are retried (connect errors, timeouts, 502/503/504, 429 with Retry-After),
never past the request's deadline: a wait that would end after the deadline stops the retries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.pipeline.retry_budget import RetryBudget
from domain.errors import AgencyError

__all__ = ["build_retrying", "is_transient"]


def is_transient(exc: BaseException) -> bool:
    """Whether repeating the same read now may succeed."""
    return isinstance(exc, AgencyError) and exc.transient


class wait_retry_after(wait_base):  # noqa: N801 - tenacity's naming convention for strategies
    """The agency's own Retry-After when it gave one, else the fallback strategy."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return self.fallback(retry_state)


class stop_at_deadline(stop_base):  # noqa: N801
    """Stop when the next wait would end after the request's deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep >= self.deadline.remaining()


class stop_on_long_retry_after(stop_base):  # noqa: N801
    """Stop when the agency asks for a longer pause than this agency's policy accepts."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep > self.limit


class stop_when_budget_spent(stop_base):  # noqa: N801
    """Stop when the agency's retry budget has no retry left; checked last, so it spends one
    only for a retry that would otherwise happen."""

    def __init__(self, budget: RetryBudget) -> None:
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return not self.budget.try_spend()


def build_retrying(
    policy: AgencyPolicy,
    *,
    sleep: Callable[[float], Awaitable[Any]],
    before_sleep: Callable[[RetryCallState], Any] | None = None,
    budget: RetryBudget | None = None,
    deadline: Deadline | None = None,
) -> AsyncRetrying:
    """The retry loop for one agency, composed from its policy (and the caller's deadline)."""
    stop = stop_after_attempt(policy.max_attempts) | stop_on_long_retry_after(
        max(policy.max_retry_after, policy.backoff_max)
    )
    if deadline is not None:
        stop = stop | stop_at_deadline(deadline)
    if budget is not None:
        stop = stop | stop_when_budget_spent(budget)
    return AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=wait_retry_after(
            wait_random_exponential(multiplier=policy.backoff_initial, max=policy.backoff_max)
        ),
        stop=stop,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
