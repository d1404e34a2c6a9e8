"""Ops types (scope `ops`): every agency as the fleet sees it; forcing a circuit and setting
one-off maintenance windows.

`AgencyStatus` joins three sources: the fleet's health of the agency (a `HealthBook` snapshot:
state, p95 latency, maintenance now and next), this instance's breaker with any ops order
holding it, and the ops windows to come (the maintenance calendar, read once per request).
Availability and incidents are fields with arguments, read only when asked for.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Self

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from connectors.circuit_overrides import CircuitOrder, CircuitOverrides
from connectors.circuit_overrides import CircuitScope as OrderScope
from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.breaker import CircuitState as BreakerState
from observability.agency_health import model
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
Scope = strawberry.enum(
    OrderScope,
    name="OrderScope",
    description="Where an ops order (a forced circuit, a maintenance window) holds: FLEET, "
    "every instance sharing Redis (those started later too); INSTANCE, only the instance that "
    "took it (no Redis configured, or Redis refused the order).",
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
    applied_to: Scope

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
    windows: strawberry.Private[DataLoader[str, list[model.MaintenanceWindow]]]

    @classmethod
    def of(
        cls,
        connector: AgencyConnector,
        snapshot: AgencySnapshot,
        circuits: CircuitOverrides,
        windows: DataLoader[str, list[model.MaintenanceWindow]],
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
            windows=windows,
        )

    @strawberry.field(
        description="One-off windows set by ops that are not over yet, earliest first: what "
        "`cancelMaintenance` takes (nightly windows are configuration)."
    )
    async def scheduled_maintenance(self) -> list[MaintenanceWindow]:
        return [MaintenanceWindow.of(w) for w in await self.windows.load(self.id)]

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
    ctx = info.context
    listed = await ops.agencies(ctx)
    windows = ops.windows_loader(ctx)
    return [AgencyStatus.of(c, snapshot, ctx.circuits, windows) for c, snapshot in listed]


@strawberry.type(description="What `setCircuit` did, and where it holds.")
class SetCircuitPayload:
    agency: AgencyStatus = strawberry.field(description="The agency, on this instance, after it.")
    state: CircuitOverride
    applied_to: Scope = strawberry.field(
        description="FLEET: every instance holds it, and instances started later will; "
        "INSTANCE: only the instance that answered."
    )


@strawberry.type(description="What a maintenance mutation did, and where it holds.")
class MaintenancePayload:
    window: MaintenanceWindow = strawberry.field(description="The window set or removed.")
    agency: AgencyStatus = strawberry.field(description="The agency after it.")
    applied_to: Scope = strawberry.field(
        description="FLEET: every instance holds it (windows kept in Redis); INSTANCE: only "
        "the instance that answered (no Redis configured)."
    )

    @classmethod
    def of(
        cls,
        ctx: GatewayContext,
        connector: AgencyConnector,
        snapshot: AgencySnapshot,
        window: model.MaintenanceWindow,
    ) -> Self:
        status = AgencyStatus.of(connector, snapshot, ctx.circuits, ops.windows_loader(ctx))
        shared = ops.maintenance_shared(ctx)
        return cls(
            window=MaintenanceWindow.of(window),
            agency=status,
            applied_to=OrderScope.FLEET if shared else OrderScope.INSTANCE,
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
            agency=AgencyStatus.of(connector, snapshot, ctx.circuits, ops.windows_loader(ctx)),
            state=state,
            applied_to=order.scope,
        )

    @strawberry.mutation(
        description="Put an agency in planned maintenance from `startsAt` to `endsAt` (times "
        "with their offset, e.g. 2024-10-07T02:00:00+03:30) on every instance sharing Redis: "
        "it is not called then, citizens are told when it is back, and it is MAINTENANCE, not "
        "down (ops). At most 6 h long, 90 days ahead, never overlapping another ops window of "
        "the agency (configurable)."
    )
    async def schedule_maintenance(
        self,
        info: Info[GatewayContext, None],
        agency: str,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        note: str = "",
    ) -> MaintenancePayload:
        ctx = info.context
        scheduled = await ops.schedule_maintenance(ctx, agency, starts_at, ends_at, note)
        return MaintenancePayload.of(ctx, *scheduled)

    @strawberry.mutation(
        description="Remove the ops maintenance window of an agency that starts at `startsAt`: "
        "called off, or ended now if it has begun (ops)."
    )
    async def cancel_maintenance(
        self, info: Info[GatewayContext, None], agency: str, starts_at: dt.datetime
    ) -> MaintenancePayload:
        ctx = info.context
        return MaintenancePayload.of(ctx, *await ops.cancel_maintenance(ctx, agency, starts_at))
