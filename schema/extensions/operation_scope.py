"""What starts with each operation, not with each connection: the deadline and, over a
WebSocket, the caller.

    on_operation ──▶ deadline = now + context.deadline_s            (HTTP and WebSocket alike)
                     with the request's id (for the agencies' `X-Request-Id`)
                     held by the context and its loaders (a copy of it over WebSocket)
    on_parse     ──▶ WebSocket only, before the document is read:
                                     token re-verified (expired: UNAUTHENTICATED, counted in
                                     `auth_failures_total{reason}`)
                                     counted against the caller's rate limits (RATE_LIMITED)
                                     a context copy: that principal, fresh loaders and trail
    on_execute   ──▶ WebSocket only: mutation?  FORBIDDEN (mutations go over HTTP POST)

The deadline travels in the context, never in ambient state. An HTTP request's context is its
operation's own and holds it; on a WebSocket each operation gets a copy of the connection's
context holding its own, so concurrent operations cannot move each other's.

A WebSocket connection has one context and runs many operations; without this, its deadline
would run from the connection's start, its loaders, agency-lookup cap and principal would be
shared by all of them, and a loop of operations on one socket would escape the rate limits.
Errors raised here reach the client as the operation's error, shaped by `ErrorCodes`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator

from graphql import GraphQLError, parse
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from connectors.pipeline.deadline import Deadline
from domain.errors import Forbidden, PanjerehError, Unauthenticated
from observability.audit_trail import AccessTrail
from resolvers.context import GatewayContext, RequestLoaders
from schema.error_codes import error_extensions

__all__ = ["OperationScope"]

_UNREAD = parse("{ __typename }", no_location=True)  # stands for a document refused unread


class OperationScope(SchemaExtension):
    """Per-operation deadline; per-operation authentication over WebSocket."""

    def __init__(self) -> None:
        super().__init__()
        self.refusal: GraphQLError | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, GatewayContext) and context.deadline_s is not None:
            deadline = Deadline.after(context.deadline_s, request_id=context.request_id)
            if context.connection is None:
                # One HTTP request, one operation: the context is its own, and the view reads
                # its loaders afterwards (the response cache), so it is set in place.
                context.deadline = context.loaders.deadline = deadline
            else:  # a connection's context is shared by its operations: each gets a copy
                self.execution_context.context = dataclasses.replace(
                    context, deadline=deadline, loaders=context.loaders.for_deadline(deadline)
                )
        yield

    async def on_parse(self) -> AsyncIterator[None]:
        """Over a WebSocket: the caller of this operation, verified and counted against its
        rate limits before the document is read, so that a refused operation costs no
        parsing, validation or document-cache entry (over HTTP the view does both first).

        A refusal cannot be raised from here: strawberry's stream path (WebSocket) does not
        catch errors of parsing hooks. It is kept, the document left unread, and reported by
        `on_validate` as the operation's only error."""
        context = self.execution_context.context
        if isinstance(context, GatewayContext) and context.connection is not None:
            try:
                self.execution_context.context = await _operation_context(context)
            except PanjerehError as exc:
                if isinstance(exc, Unauthenticated):  # as the view counts an HTTP 401
                    context.metrics.auth_failures.labels(exc.reason).inc()
                self.refusal = GraphQLError(
                    exc.message, original_error=exc, extensions=error_extensions(exc)
                )
                self.execution_context.graphql_document = _UNREAD
        yield

    def on_validate(self) -> Iterator[None]:
        if self.refusal is not None:
            self.execution_context.pre_execution_errors = [self.refusal]
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        over_websocket = isinstance(context, GatewayContext) and context.connection is not None
        if over_websocket and self.execution_context.operation_type is OperationType.MUTATION:
            raise Forbidden("mutations are not accepted over WebSocket; use HTTP POST")
        yield


async def _operation_context(connection: GatewayContext) -> GatewayContext:
    """The context of one operation on a connection: its caller verified now, counted, with
    loaders and an audit trail of its own."""
    principal = await connection.connection.principal()  # type: ignore[union-attr]
    limiter = connection.rate_limiter
    budget = None
    if limiter is not None and connection.request is not None:
        await limiter.check_http(principal, connection.request)
        budget = limiter.lookup_budget(principal)
    return dataclasses.replace(
        connection,
        principal=principal,
        loaders=RequestLoaders(budget=budget, deadline=connection.deadline),
        audit=AccessTrail(connection.audit.auditor),
    )
