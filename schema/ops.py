"""Ops types: an agency's status as the gateway sees it, and the circuit override mutation."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Self

import strawberry
from strawberry.types import Info

from connectors.circuit_overrides import CircuitOrder, CircuitOverrides
from connectors.circuit_overrides import CircuitScope as OrderScope
from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.breaker import CircuitState as BreakerState
from resolvers import ops
from resolvers.context import GatewayContext

__all__ = ["AgencyStatus", "OpsMutation"]

CircuitState = strawberry.enum(BreakerState, name="CircuitState")
CircuitScope = strawberry.enum(
    OrderScope,
    name="CircuitScope",
    description="Where a circuit order holds: FLEET, every instance sharing Redis (those "
    "started later too); INSTANCE, only the instance that took it (no Redis configured, or "
    "Redis refused the order).",
)


@strawberry.enum(description="What to force an agency's circuit to; AUTO hands it back.")
class CircuitOverride(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    AUTO = "AUTO"

    @classmethod
    def of(cls, state: BreakerState | None) -> CircuitOverride:
        return cls.AUTO if state is None else cls(state.name)

    def breaker_state(self) -> BreakerState | None:
        return None if self is CircuitOverride.AUTO else BreakerState[self.value]


@strawberry.type(description="An ops order holding an agency's circuit OPEN or CLOSED.")
class ForcedCircuit:
    state: CircuitOverride
    by: str = strawberry.field(description="The ops client that gave the order.")
    at: dt.datetime
    applied_to: CircuitScope

    @classmethod
    def of(cls, order: CircuitOrder) -> Self:
        return cls(
            state=CircuitOverride.of(order.state),
            by=order.by,
            at=dt.datetime.fromtimestamp(order.at, dt.UTC),
            applied_to=order.scope,
        )


@strawberry.type(description="An agency as the gateway sees it (ops scope).")
class AgencyStatus:
    id: str
    title: str = strawberry.field(deprecation_reason="Use `nameFa` (or `nameEn`).")
    name_fa: str = strawberry.field(description="The agency's name in Persian.")
    name_en: str = strawberry.field(description="The agency's name in English.")
    up: bool | None = strawberry.field(
        description="Whether its last call got an answer; null before any call."
    )
    circuit: CircuitState = strawberry.field(description="This instance's breaker.")
    circuit_forced: bool
    forced_circuit: ForcedCircuit | None = strawberry.field(
        description="The ops order holding the circuit; null while the breaker decides."
    )
    retry_in_seconds: float = strawberry.field(description="Until an open circuit probes again.")

    @classmethod
    def of(cls, connector: AgencyConnector, circuits: CircuitOverrides) -> Self:
        order = circuits.held(connector.agency_id)
        return cls(
            id=connector.agency_id,
            title=connector.name_fa,
            name_fa=connector.name_fa,
            name_en=connector.name_en,
            up=connector.up,
            circuit=connector.breaker.state,
            circuit_forced=connector.breaker.forced,
            forced_circuit=None if order is None else ForcedCircuit.of(order),
            retry_in_seconds=round(connector.breaker.retry_in(), 3),
        )


def agencies(info: Info[GatewayContext, None]) -> list[AgencyStatus] | None:
    circuits = info.context.circuits
    return [AgencyStatus.of(c, circuits) for c in ops.agency_connectors(info.context)]


@strawberry.type(description="What `setCircuit` did, and where it holds.")
class SetCircuitPayload:
    agency: AgencyStatus = strawberry.field(description="The agency, on this instance, after it.")
    state: CircuitOverride
    applied_to: CircuitScope = strawberry.field(
        description="FLEET: every instance holds it, and instances started later will; "
        "INSTANCE: only the instance that answered."
    )


@strawberry.type(name="Mutation")
class OpsMutation:
    @strawberry.mutation(
        description="Force an agency's circuit OPEN or CLOSED, or AUTO, on every instance "
        "sharing Redis (ops)."
    )
    async def set_circuit(
        self, info: Info[GatewayContext, None], agency: str, state: CircuitOverride
    ) -> SetCircuitPayload:
        connector, order = await ops.set_circuit(info.context, agency, state.breaker_state())
        return SetCircuitPayload(
            agency=AgencyStatus.of(connector, info.context.circuits),
            state=state,
            applied_to=order.scope,
        )
