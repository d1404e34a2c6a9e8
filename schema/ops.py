"""Ops types (scope `ops`): every agency as the fleet sees it, the circuit override mutation.

`AgencyStatus` joins two sources: the fleet's health of the agency (a `HealthBook` snapshot:
state, p95 latency, maintenance) and this instance's breaker with any ops order holding it.
Availability and incidents are fields with arguments, read only when asked for.
"""

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
from observability.agency_health.model import AgencySnapshot
from resolvers import ops
from resolvers.context import GatewayContext
from schema.agency_health import (
    AgencyState,
    Availability,
    AvailabilityWindow,
    Incident,
    MaintenanceWindow,
    instant,
)

__all__ = ["AgencyStatus", "OpsMutation", "agencies"]

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
            at=instant(order.at),
            applied_to=order.scope,
        )


@strawberry.type(description="An agency as the fleet sees it, and its circuit here (ops scope).")
class AgencyStatus:
    id: str
    name_fa: str = strawberry.field(description="The agency's name in Persian.")
    name_en: str = strawberry.field(description="The agency's name in English.")
    title: str = strawberry.field(deprecation_reason="Use `nameFa` (or `nameEn`).")
    state: AgencyState = strawberry.field(description="The fleet's judgement of the agency.")
    state_since: dt.datetime = strawberry.field(description="When it entered `state`.")
    up: bool | None = strawberry.field(
        description="Answering at all: `state` is UP or DEGRADED (as `panjereh_agency_up`)."
    )
    latency_p95: float | None = strawberry.field(
        description="95th percentile of probe and call latency over the last 5 minutes, in "
        "seconds; null with no samples."
    )
    maintenance: MaintenanceWindow | None = strawberry.field(
        description="The planned window the agency is in now, if any."
    )
    next_maintenance: MaintenanceWindow | None = strawberry.field(
        description="The next planned window, if one is known."
    )
    circuit: CircuitState = strawberry.field(description="This instance's breaker.")
    circuit_forced: bool
    forced_circuit: ForcedCircuit | None = strawberry.field(
        description="The ops order holding the circuit; null while the breaker decides."
    )
    retry_in_seconds: float = strawberry.field(description="Until an open circuit probes again.")

    @classmethod
    def of(
        cls, connector: AgencyConnector, snapshot: AgencySnapshot, circuits: CircuitOverrides
    ) -> Self:
        order = circuits.held(connector.agency_id)
        return cls(
            id=connector.agency_id,
            name_fa=connector.name_fa,
            name_en=connector.name_en,
            title=connector.name_fa,
            state=snapshot.state,
            state_since=instant(snapshot.since),
            up=snapshot.state.up,
            latency_p95=snapshot.latency_p95,
            maintenance=MaintenanceWindow.of(snapshot.maintenance),
            next_maintenance=MaintenanceWindow.of(snapshot.next_maintenance),
            circuit=connector.breaker.state,
            circuit_forced=connector.breaker.forced,
            forced_circuit=None if order is None else ForcedCircuit.of(order),
            retry_in_seconds=round(connector.breaker.retry_in(), 3),
        )

    @strawberry.field(description="Share of time the agency answered over `window`.")
    async def availability(
        self, info: Info[GatewayContext, None], window: AvailabilityWindow
    ) -> Availability:
        return Availability.of(await ops.availability(info.context, self.id, window))

    @strawberry.field(
        description=f"The agency's newest incidents, newest first (`first`: 1 to "
        f"{ops.MAX_INCIDENTS})."
    )
    async def incidents(self, info: Info[GatewayContext, None], first: int = 10) -> list[Incident]:
        return [Incident.of(i) for i in await ops.incidents(info.context, self.id, first)]


async def agencies(info: Info[GatewayContext, None]) -> list[AgencyStatus] | None:
    circuits = info.context.circuits
    listed = await ops.agencies(info.context)
    return [AgencyStatus.of(connector, snapshot, circuits) for connector, snapshot in listed]


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
        ctx = info.context
        connector, snapshot, order = await ops.set_circuit(ctx, agency, state.breaker_state())
        return SetCircuitPayload(
            agency=AgencyStatus.of(connector, snapshot, ctx.circuits),
            state=state,
            applied_to=order.scope,
        )
