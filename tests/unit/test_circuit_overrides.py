"""Circuit orders on one instance (no Redis): what the embedded default does, and the record
every instance reads from Redis. The fleet's behaviour is tests/integration/test_ops_fleet.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from connectors.circuit_overrides import CircuitOrder, CircuitOverrides, CircuitScope
from connectors.pipeline.breaker import BreakerPolicy, CircuitBreaker, CircuitState


@dataclass
class _Agency:
    """What the overrides touch of a connector: its id and its breaker."""

    agency_id: str
    breaker: CircuitBreaker


def _overrides() -> tuple[CircuitOverrides, dict[str, _Agency]]:
    agencies = {a: _Agency(a, CircuitBreaker(a, BreakerPolicy())) for a in ("water", "gas")}
    return CircuitOverrides(agencies.values(), wall=lambda: 1_700_000_000.0), agencies  # type: ignore[arg-type]


async def test_without_redis_an_order_holds_here_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    overrides, agencies = _overrides()
    assert overrides.scope is CircuitScope.INSTANCE
    with caplog.at_level(logging.WARNING, logger="panjereh.ops"):
        order = await overrides.order("water", CircuitState.OPEN, by="ops-console")
    assert order == CircuitOrder(
        "water", CircuitState.OPEN, "ops-console", 1_700_000_000.0, CircuitScope.INSTANCE
    )
    assert agencies["water"].breaker.state is CircuitState.OPEN
    assert agencies["water"].breaker.forced
    assert overrides.held("water") == order
    assert agencies["gas"].breaker.forced is False and overrides.held("gas") is None
    [line] = caplog.records
    assert (
        line.getMessage()
        == "circuit of water forced to OPEN by ops-console (instance, ordered here)"
    )
    assert line.forced_by == "ops-console" and line.applied_to == "INSTANCE"  # type: ignore[attr-defined]

    await overrides.order("water", CircuitState.CLOSED, by="ops-console")
    assert (
        agencies["water"].breaker.state is CircuitState.CLOSED and agencies["water"].breaker.forced
    )
    await overrides.order("water", None, by="ops-console")
    assert agencies["water"].breaker.forced is False
    assert overrides.held("water") is None


async def test_an_unknown_agency_is_refused_and_changes_nothing() -> None:
    overrides, agencies = _overrides()
    with pytest.raises(KeyError):
        await overrides.order("nope", CircuitState.OPEN, by="ops-console")
    assert not any(a.breaker.forced for a in agencies.values())


@pytest.mark.parametrize("state", [CircuitState.OPEN, CircuitState.CLOSED, None])
def test_the_record_in_redis_reads_back_as_the_order(state: CircuitState | None) -> None:
    order = CircuitOrder("gas", state, "ops-console", 1_700_000_000.5, CircuitScope.FLEET)
    raw = order.encode()
    assert CircuitOrder.decode(raw) == order
    assert b'"state":"%s"' % (b"AUTO" if state is None else state.name.encode()) in raw


@pytest.mark.parametrize(
    "raw", [b"", b"{}", b'{"agency":"gas","state":"MAYBE","by":"x","at":1}', b"[]"]
)
def test_a_record_that_is_not_an_order_is_refused(raw: bytes) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        CircuitOrder.decode(raw)
