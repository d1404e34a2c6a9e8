"""The retry loop composed from a policy: what is retried, how long it waits, when it stops."""

from __future__ import annotations

import pytest

from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.pipeline.retrying import build_retrying, is_transient
from domain.errors import (
    AgencyBadResponse,
    AgencyNotFound,
    AgencyRateLimited,
    AgencyTimeout,
    AgencyUnavailable,
)


class RecordingSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Flaky:
    """Fails with the given errors in turn, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


def test_only_transient_agency_errors_are_retried() -> None:
    assert is_transient(AgencyTimeout("a", "x", transient=True))
    assert is_transient(AgencyUnavailable("a", "x", transient=True))
    assert not is_transient(AgencyUnavailable("a", "500", transient=False))
    assert not is_transient(AgencyBadResponse("a", "x"))
    assert not is_transient(AgencyNotFound("a", "x"))
    assert not is_transient(ValueError("x"))


async def test_transient_failures_are_retried_with_bounded_jittered_waits() -> None:
    sleep = RecordingSleep()
    policy = AgencyPolicy(max_attempts=3, backoff_initial=0.05, backoff_max=1.0)
    call = Flaky(AgencyTimeout("a", "t", transient=True), AgencyTimeout("a", "t", transient=True))
    assert await build_retrying(policy, sleep=sleep)(call) == "answer"
    assert call.calls == 3
    assert len(sleep.waits) == 2
    assert all(0 <= w <= 1.0 for w in sleep.waits)


async def test_attempts_are_capped_by_the_policy() -> None:
    sleep = RecordingSleep()
    call = Flaky(*(AgencyUnavailable("a", "503", transient=True) for _ in range(5)))
    with pytest.raises(AgencyUnavailable):
        await build_retrying(AgencyPolicy(max_attempts=2), sleep=sleep)(call)
    assert call.calls == 2


async def test_permanent_failures_are_not_retried() -> None:
    call = Flaky(AgencyBadResponse("a", "garbage"))
    with pytest.raises(AgencyBadResponse):
        await build_retrying(AgencyPolicy(), sleep=RecordingSleep())(call)
    assert call.calls == 1


async def test_retry_after_is_honoured() -> None:
    sleep = RecordingSleep()
    call = Flaky(AgencyRateLimited("a", "429", retry_after=1.5, transient=True))
    assert await build_retrying(AgencyPolicy(max_retry_after=2), sleep=sleep)(call) == "answer"
    assert sleep.waits == [1.5]


async def test_a_retry_after_longer_than_the_policy_allows_stops_at_once() -> None:
    call = Flaky(AgencyRateLimited("a", "429", retry_after=30, transient=True))
    with pytest.raises(AgencyRateLimited):
        await build_retrying(AgencyPolicy(max_retry_after=2), sleep=RecordingSleep())(call)
    assert call.calls == 1


async def test_no_wait_may_end_after_the_deadline() -> None:
    now = 100.0
    deadline = Deadline.after(0.5, clock=lambda: now)
    policy = AgencyPolicy(max_retry_after=2)
    call = Flaky(AgencyRateLimited("a", "429", retry_after=1.0, transient=True))
    with pytest.raises(AgencyRateLimited):
        await build_retrying(policy, sleep=RecordingSleep(), deadline=deadline)(call)
    assert call.calls == 1
    now = 90.0  # the same wait fits in the time now left (the deadline's clock is read each time)
    call = Flaky(AgencyRateLimited("a", "429", retry_after=1.0, transient=True))
    assert await build_retrying(policy, sleep=RecordingSleep(), deadline=deadline)(call)
    assert call.calls == 2


def test_policy_rejects_nonsense_and_replaces() -> None:
    with pytest.raises(ValueError):
        AgencyPolicy(timeout=0)
    with pytest.raises(ValueError):
        AgencyPolicy(fresh_ttl=100, stale_ttl=10)
    assert AgencyPolicy().replace(timeout=1.5).timeout == 1.5


def test_policy_overrides_from_configuration() -> None:
    policy = AgencyPolicy().with_overrides({"timeout": 1.5, "breaker": {"open_s": 3}})
    assert policy.timeout == 1.5 and policy.breaker.open_s == 3
    assert policy.breaker.min_calls == AgencyPolicy().breaker.min_calls
    with pytest.raises(ValueError, match="unknown agency policy setting 'timeuot'"):
        AgencyPolicy().with_overrides({"timeuot": 1})
    with pytest.raises(ValueError, match="breaker takes a mapping"):
        AgencyPolicy().with_overrides({"breaker": {"opens": 3}})


def test_kinds_of_data_can_have_their_own_cache_windows() -> None:
    policy = AgencyPolicy(fresh_ttl=300, stale_ttl=3600, kind_ttls={"vehicles": (86_400, 604_800)})
    assert policy.windows("vehicles") == (86_400, 604_800)
    assert policy.windows("fines") == (300, 3600)
    with pytest.raises(ValueError, match="stale window"):
        AgencyPolicy(kind_ttls={"vehicles": (100, 10)})
    overridden = policy.with_overrides({"kind_ttls": {"fines": [60, 600]}})
    assert overridden.windows("fines") == (60, 600)
