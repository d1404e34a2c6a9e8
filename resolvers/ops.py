"""Ops fields: every agency's circuit and last outcome, and forcing a circuit (scope `ops`)."""

from __future__ import annotations

import logging

from auth.principal import PrincipalKind, Scope
from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.breaker import CircuitState
from domain.errors import Forbidden, InvalidInput, Unauthenticated
from resolvers.context import GatewayContext

__all__ = ["agency_connectors", "require_ops", "set_circuit"]

log = logging.getLogger("panjereh.ops")


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


def set_circuit(ctx: GatewayContext, agency: str, state: CircuitState | None) -> AgencyConnector:
    """Hold an agency's circuit OPEN or CLOSED, or hand it back to the breaker (None)."""
    client = require_ops(ctx)
    try:
        connector = ctx.connectors.by_id(agency)
    except KeyError:
        raise InvalidInput("agency", f"unknown agency {agency!r}") from None
    connector.breaker.force(state)
    held = "AUTO" if state is None else state.name  # CLOSED is 0: test for None, not truth
    log.warning("circuit of %s forced to %s by %s", agency, held, client)
    return connector
