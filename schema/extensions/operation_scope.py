"""What starts with each operation, not with each connection: the deadline and, over a
WebSocket, the caller.

    on_operation ──▶ deadline = now + context.deadline_s            (HTTP and WebSocket alike)
                     a context copy holding it, with loaders that call agencies with it
    on_execute   ──▶ WebSocket only: mutation?  FORBIDDEN (mutations go over HTTP POST)
                                     token re-verified (expired: UNAUTHENTICATED)
                                     counted against the caller's rate limits (RATE_LIMITED)
                                     a context copy: that principal, fresh loaders and trail

The deadline travels in the context, never in ambient state: each operation's copy holds its
own, so concurrent operations on one WebSocket cannot move each other's.

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

from connectors.pipeline.deadline import Deadline
from domain.errors import Forbidden
from observability.audit_trail import AccessTrail
from resolvers.context import GatewayContext, RequestLoaders

__all__ = ["OperationScope"]


class OperationScope(SchemaExtension):
    """Per-operation deadline; per-operation authentication over WebSocket."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, GatewayContext) and context.deadline_s is not None:
            deadline = Deadline.after(context.deadline_s)
            self.execution_context.context = dataclasses.replace(
                context, deadline=deadline, loaders=context.loaders.for_deadline(deadline)
            )
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
                loaders=RequestLoaders(budget=budget, deadline=context.deadline),
                audit=AccessTrail(context.audit.auditor),
            )
        yield
