"""Ops types: an agency's status as the gateway sees it, and the circuit override mutation."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

import strawberry
from strawberry.types import Info

from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.breaker import CircuitState as BreakerState
from resolvers import ops
from resolvers.context import GatewayContext

__all__ = ["AgencyStatus", "OpsMutation"]

CircuitState = strawberry.enum(BreakerState, name="CircuitState")


@strawberry.enum(description="What to force an agency's circuit to; AUTO hands it back.")
class CircuitOverride(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    AUTO = "AUTO"


@strawberry.type(description="An agency as this gateway instance sees it (ops scope).")
class AgencyStatus:
    id: str
    title: str
    up: bool | None = strawberry.field(
        description="Whether its last call got an answer; null before any call."
    )
    circuit: CircuitState
    circuit_forced: bool
    retry_in_seconds: float = strawberry.field(description="Until an open circuit probes again.")

    @classmethod
    def of(cls, connector: AgencyConnector) -> Self:
        return cls(
            id=connector.agency_id,
            title=connector.name_fa,
            up=connector.up,
            circuit=connector.breaker.state,
            circuit_forced=connector.breaker.forced,
            retry_in_seconds=round(connector.breaker.retry_in(), 3),
        )


def agencies(info: Info[GatewayContext, None]) -> list[AgencyStatus] | None:
    return [AgencyStatus.of(c) for c in ops.agency_connectors(info.context)]


@strawberry.type(name="Mutation")
class OpsMutation:
    @strawberry.mutation(description="Force an agency's circuit OPEN or CLOSED, or AUTO (ops).")
    def set_circuit(
        self, info: Info[GatewayContext, None], agency: str, state: CircuitOverride
    ) -> AgencyStatus:
        forced = None if state is CircuitOverride.AUTO else BreakerState[state.value]
        return AgencyStatus.of(ops.set_circuit(info.context, agency, forced))
