"""What starts with each operation, not with each connection: the deadline and, over a
WebSocket, the caller.

    on_operation ──▶ deadline = now + context.deadline_s            (HTTP and WebSocket alike)
    on_execute   ──▶ WebSocket only: mutation?  FORBIDDEN (mutations go over HTTP POST)
                                     token re-verified (expired: UNAUTHENTICATED)
                                     counted against the caller's rate limits (RATE_LIMITED)
                                     a context copy: that principal, fresh loaders and trail

A WebSocket connection has one context and runs many operations; without this, its deadline
would run from the connection's start, its loaders, agency-lookup cap and principal would be
shared by all of them, and a loop of operations on one socket would escape the rate limits.
Errors raised in `on_execute` reach the client as the operation's error,
shaped by `ErrorCodes`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from connectors.deadline import Deadline, set_deadline
from domain.errors import Forbidden
from observability.audit_trail import AccessTrail
from resolvers.context import GatewayContext, RequestLoaders

__all__ = ["OperationScope"]


class OperationScope(SchemaExtension):
    """Per-operation deadline; per-operation authentication over WebSocket."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, GatewayContext) and context.deadline_s is not None:
            set_deadline(Deadline.after(context.deadline_s))
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, GatewayContext) and context.connection is not None:
            if self.execution_context.operation_type is OperationType.MUTATION:
                raise Forbidden("mutations are not accepted over WebSocket; use HTTP POST")
            principal = await context.connection.principal()
            limiter = context.rate_limiter
            budget = None
            if limiter is not None and context.request is not None:
                request = context.request
                forwarded = request.headers.getall("X-Forwarded-For", ())
                await limiter.check_request(principal, request.remote, forwarded)
                budget = limiter.lookup_budget(principal)
            self.execution_context.context = dataclasses.replace(
                context,
                principal=principal,
                loaders=RequestLoaders(budget=budget),
                audit=AccessTrail(context.audit.auditor),
            )
        yield
