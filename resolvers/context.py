"""What every resolver of one GraphQL request can reach."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from auth.connection import ConnectionAuth
from auth.principal import Principal
from connectors.circuit_overrides import CircuitOverrides
from connectors.pipeline.deadline import Deadline
from connectors.registry import Connectors
from observability.agency_health.model import HealthBook
from observability.audit_trail import AccessTrail
from observability.maintenance import MaintenanceCalendar
from observability.metrics import Metrics
from ratelimits.limiter import RateLimiter
from resolvers.loaders import RequestLoaders

__all__ = ["GatewayContext", "RequestLoaders"]


@dataclass
class GatewayContext:
    """Per-operation context: the caller, the connectors, the operation's loaders and audit
    trail.

    Over HTTP one request is one operation. A WebSocket connection has one context of its own
    (`connection` set, `connection_params` from `connection_init`); each of its operations runs
    with a copy holding the principal verified for it, fresh loaders and a fresh audit trail
    (`OperationScope`).
    """

    request: web.Request | None
    principal: Principal | None
    connectors: Connectors
    metrics: Metrics
    circuits: CircuitOverrides
    """Ops overrides of agency circuits, shared with the fleet when Redis is configured."""
    loaders: RequestLoaders = field(default_factory=RequestLoaders)
    audit: AccessTrail = field(default_factory=AccessTrail)
    deadline_s: float | None = None
    """Time budget of one operation; the deadline starts when the operation does."""
    deadline: Deadline | None = None
    """The operation's deadline, set when it starts (`OperationScope`); its loaders hold it."""
    request_id: str | None = None
    """The HTTP request's id (a WebSocket's: its upgrade request's, for all its operations);
    the operation's deadline carries it to every agency call as `X-Request-Id`."""
    connection: ConnectionAuth | None = None
    connection_params: dict[str, Any] | None = None
    rate_limiter: RateLimiter | None = None
    """Counts each WebSocket operation like an HTTP request (HTTP requests are counted by the
    view before any GraphQL work)."""
    health: HealthBook | None = None
    """The fleet's agency health: states, availability, incidents, changes (ops, status)."""
    maintenance: MaintenanceCalendar | None = None
    """Planned maintenance windows: ops add and remove one-off windows through it."""
