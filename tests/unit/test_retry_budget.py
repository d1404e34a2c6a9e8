"""The retry budget bounds retries to a fraction of recent calls."""

from __future__ import annotations

from connectors.pipeline.retry_budget import RetryBudget, RetryBudgetPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_retries_are_bounded_by_the_ratio_of_calls() -> None:
    budget = RetryBudget(RetryBudgetPolicy(ratio=0.1, min_retries=2, window_s=10), clock=Clock())
    for _ in range(100):
        budget.record_call()
    granted = sum(budget.try_spend() for _ in range(50))
    assert granted == 12  # 2 + 0.1 x 100


def test_the_budget_refills_as_the_window_slides() -> None:
    clock = Clock()
    budget = RetryBudget(RetryBudgetPolicy(ratio=0.0, min_retries=1, window_s=10), clock=clock)
    assert budget.try_spend() is True
    assert budget.try_spend() is False
    clock.now = 10.5
    assert budget.try_spend() is True
