"""Persisted queries inside the schema: register APQ documents only once they are valid, and
hold manifest mode on every transport.

The HTTP view resolves hashes to documents before the schema runs (`schema.persisted.gate`).
This extension works at the start of execution, the first moment at which a document has
parsed and passed every validation rule (limits included), whatever path it came by:

- APQ: a document sent with its hash by a caller with a token is stored now, never earlier, so
  a document the limits refuse is never kept; anonymous callers run documents but register none
  (they can still run, by hash, what a client with a token registered);
- manifest mode: a document that is not listed (e.g. sent over WebSocket, where the view's gate
  does not run) is answered with PERSISTED_QUERY_NOT_IN_LIST instead of being executed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from domain.errors import PersistedQueryNotInList
from schema.error_codes import error_extensions
from schema.persisted.gate import PersistedQueryGate

__all__ = ["PersistedQueryExtension"]


class PersistedQueryExtension(SchemaExtension):
    """Registration after validation (APQ) and the manifest check (manifest mode)."""

    def __init__(self, gate: PersistedQueryGate) -> None:
        super().__init__()
        self._gate = gate

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if not self._gate.runs(context.query):
            refusal = PersistedQueryNotInList(
                "this gateway runs only the operations of its persisted-operations manifest"
            )
            # A result set before execution is returned as is. It carries its extensions
            # itself: over WebSocket the result is sent before ErrorCodes sees it.
            error = GraphQLError(
                refusal.message, original_error=refusal, extensions=error_extensions(refusal)
            )
            context.result = ExecutionResult(data=None, errors=[error])
        elif getattr(context.context, "principal", None) is not None:
            # Only callers with a token register: an anonymous one could otherwise fill the
            # shared store with documents (comments cost nothing against the token limit).
            await self._gate.register_after_validation(context.query, context.operation_extensions)
        yield
