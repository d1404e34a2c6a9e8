"""Ops fields (scope `ops`): every agency's state, availability, incidents and circuit, forcing
a circuit, one-off maintenance windows, and the stream of state changes.

Agency health is the fleet's (`ctx.health`, a HealthBook): the list of agencies reads every
agency's snapshot in one call, whatever the number of agencies; availability and incidents are
read per agency, only when asked for; the ops windows of every agency asked in one request are
read once (`windows_loader`). Circuits are per instance, held by the fleet when ops force them
(`ctx.circuits`); maintenance windows are the calendar's (`ctx.maintenance`), shared through
Redis when it is configured.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator

from strawberry.dataloader import DataLoader

from auth.principal import PrincipalKind, Scope
from connectors.circuit_overrides import CircuitOrder
from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.breaker import CircuitState
from domain.errors import Forbidden, InvalidInput, Unauthenticated
from observability.agency_health.model import (
    AgencySnapshot,
    Availability,
    HealthBook,
    Incident,
    MaintenanceWindow,
    StateChange,
    Window,
)
from observability.maintenance import MaintenanceCalendar
from resolvers.context import GatewayContext

__all__ = [
    "MAX_INCIDENTS",
    "agencies",
    "availability",
    "cancel_maintenance",
    "incidents",
    "maintenance_shared",
    "require_ops",
    "schedule_maintenance",
    "set_circuit",
    "state_changes",
    "windows_loader",
]

log = logging.getLogger("panjereh.ops")

MAX_INCIDENTS = 100
"""The most incidents one `incidents(first:)` lists."""


def require_ops(ctx: GatewayContext) -> str:
    """The ops client's id, or UNAUTHENTICATED/FORBIDDEN."""
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("a bearer token is required", reason="missing")
    if principal.kind is not PrincipalKind.SERVICE or not principal.has(Scope.OPS):
        raise Forbidden(f"ops fields need a service token with scope {Scope.OPS}")
    return principal.subject


def _book(ctx: GatewayContext) -> HealthBook:
    if ctx.health is None:  # every gateway has one (server.py): a test wiring without it
        raise RuntimeError("the gateway was built without an agency health book")
    return ctx.health


def _calendar(ctx: GatewayContext) -> MaintenanceCalendar:
    if ctx.maintenance is None:  # every gateway has one (server.py): a test wiring without it
        raise RuntimeError("the gateway was built without a maintenance calendar")
    return ctx.maintenance


def _connector(ctx: GatewayContext, agency: str) -> AgencyConnector:
    try:
        return ctx.connectors.by_id(agency)
    except KeyError:
        raise InvalidInput("agency", f"unknown agency {agency[:64]!r}") from None


async def agencies(ctx: GatewayContext) -> list[tuple[AgencyConnector, AgencySnapshot]]:
    """Every agency with the fleet's snapshot of it: one HealthBook read."""
    require_ops(ctx)
    snapshots = {s.agency: s for s in await _book(ctx).snapshots()}
    listed = []
    for connector in ctx.connectors:
        snapshot = snapshots.get(connector.agency_id)
        if snapshot is None:  # not in the book's list (yet): asked alone
            snapshot = await _book(ctx).snapshot(connector.agency_id)
        listed.append((connector, snapshot))
    return listed


async def availability(ctx: GatewayContext, agency: str, window: Window) -> Availability:
    return await _book(ctx).availability(agency, window)


async def incidents(ctx: GatewayContext, agency: str, first: int) -> list[Incident]:
    """The agency's newest `first` incidents (1 to MAX_INCIDENTS), newest first."""
    if not 1 <= first <= MAX_INCIDENTS:
        raise InvalidInput("first", f"first must be between 1 and {MAX_INCIDENTS}")
    return await _book(ctx).incidents(agency, first)


async def set_circuit(
    ctx: GatewayContext, agency: str, state: CircuitState | None
) -> tuple[AgencyConnector, AgencySnapshot, CircuitOrder]:
    """Hold an agency's circuit OPEN or CLOSED, or hand it back to the breaker (None), on every
    instance when the fleet shares Redis (the order says where it holds)."""
    client = require_ops(ctx)
    connector = _connector(ctx, agency)
    order = await ctx.circuits.order(agency, state, by=client)
    return connector, await _book(ctx).snapshot(agency), order


async def state_changes(ctx: GatewayContext, agency: str | None) -> AsyncIterator[StateChange]:
    """The fleet's state changes as this instance learns them: one agency's, or all."""
    require_ops(ctx)
    if agency is not None:
        _connector(ctx, agency)
    changes = _book(ctx).changes()
    try:
        async for change in changes:
            if agency is None or change.agency == agency:
                yield change
    finally:  # the subscriber left: let the book drop its queue now, not at garbage collection
        close = getattr(changes, "aclose", None)
        if close is not None:
            await close()


def windows_loader(ctx: GatewayContext) -> DataLoader[str, list[MaintenanceWindow]]:
    """One request's loader of the ops windows to come, by agency: however many agencies a
    query asks, the calendar's store is read once."""

    async def load(agencies: list[str]) -> list[list[MaintenanceWindow]]:
        every = await _calendar(ctx).windows()
        return [[w for w in every if w.agency == agency] for agency in agencies]

    return DataLoader(load_fn=load)


async def schedule_maintenance(
    ctx: GatewayContext, agency: str, starts_at: dt.datetime, ends_at: dt.datetime, note: str
) -> tuple[AgencyConnector, AgencySnapshot, MaintenanceWindow]:
    """A one-off maintenance window for `agency`, on every instance sharing Redis (the
    calendar validates it: INVALID_INPUT naming the argument, nothing stored)."""
    client = require_ops(ctx)
    connector = _connector(ctx, agency)
    window = await _calendar(ctx).add_window(agency, starts_at, ends_at, note)
    log.warning(
        "maintenance of %s from %s to %s scheduled by %s",
        agency,
        _iso(window.starts_at),
        _iso(window.ends_at),
        client,
        extra={"agency": agency, "scheduled_by": client},
    )
    return connector, await _book(ctx).snapshot(agency), window


async def cancel_maintenance(
    ctx: GatewayContext, agency: str, starts_at: dt.datetime
) -> tuple[AgencyConnector, AgencySnapshot, MaintenanceWindow]:
    """Remove the ops window of `agency` starting at `starts_at`: called off, or (while it
    runs) ended now. NOT_FOUND when there is none."""
    client = require_ops(ctx)
    connector = _connector(ctx, agency)
    window = await _calendar(ctx).remove_window(agency, starts_at)
    log.warning(
        "maintenance of %s from %s to %s cancelled by %s",
        agency,
        _iso(window.starts_at),
        _iso(window.ends_at),
        client,
        extra={"agency": agency, "cancelled_by": client},
    )
    return connector, await _book(ctx).snapshot(agency), window


def maintenance_shared(ctx: GatewayContext) -> bool:
    """Whether one-off windows are shared by the fleet (a Redis store) or this instance's."""
    return _calendar(ctx).store.shared


def _iso(unix_s: float) -> str:
    return dt.datetime.fromtimestamp(unix_s, dt.UTC).isoformat()
