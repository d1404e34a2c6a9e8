"""Ops fields: every agency's circuit and last outcome, and forcing a circuit (scope `ops`)."""

from __future__ import annotations

from auth.principal import PrincipalKind, Scope
from connectors.circuit_overrides import CircuitOrder
from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.breaker import CircuitState
from domain.errors import Forbidden, InvalidInput, Unauthenticated
from resolvers.context import GatewayContext

__all__ = ["agency_connectors", "require_ops", "set_circuit"]


def require_ops(ctx: GatewayContext) -> str:
    """The ops client's id, or UNAUTHENTICATED/FORBIDDEN."""
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("a bearer token is required", reason="missing")
    if principal.kind is not PrincipalKind.SERVICE or not principal.has(Scope.OPS):
        raise Forbidden(f"agency status needs a service token with scope {Scope.OPS}")
    return principal.subject


def agency_connectors(ctx: GatewayContext) -> list[AgencyConnector]:
    require_ops(ctx)
    return list(ctx.connectors)


async def set_circuit(
    ctx: GatewayContext, agency: str, state: CircuitState | None
) -> tuple[AgencyConnector, CircuitOrder]:
    """Hold an agency's circuit OPEN or CLOSED, or hand it back to the breaker (None), on every
    instance when the fleet shares Redis (the order says where it holds)."""
    client = require_ops(ctx)
    try:
        connector = ctx.connectors.by_id(agency)
    except KeyError:
        raise InvalidInput("agency", f"unknown agency {agency[:64]!r}") from None
    return connector, await ctx.circuits.order(agency, state, by=client)
