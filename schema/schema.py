"""The root schema, assembled with its extensions; `python -m schema.export` writes the SDL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.document_cache import DocumentCache
from schema.extensions.audit import AuditAccesses
from schema.extensions.error_codes import ErrorCodes
from schema.extensions.invalid_variables import InvalidVariables
from schema.extensions.limited_documents import LimitedDocuments
from schema.extensions.operation_scope import OperationScope
from schema.extensions.persisted_queries import PersistedQueryExtension
from schema.extensions.request_metrics import RequestMetrics
from schema.ops import OpsMutation
from schema.persisted.gate import PersistedQueryGate
from schema.query import Query
from schema.query_limits import QueryLimits, limit_rules
from schema.scalars import SCALAR_MAP

__all__ = ["SDL_PATH", "PanjerehSchema", "build_schema"]

SDL_PATH = Path(__file__).with_name("schema.graphql")


class PanjerehSchema(strawberry.Schema):
    """Strawberry's schema without its default error logging.

    Expected errors (agency down, invalid input) are not incidents, and internal ones are logged
    once, with their stack, by the `ErrorCodes` extension. `document_cache` holds the valid
    documents this schema has seen (see `LimitedDocuments`).
    """

    document_cache: DocumentCache

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(
    *,
    production: bool = False,
    limits: QueryLimits | None = None,
    persisted: PersistedQueryGate | None = None,
) -> PanjerehSchema:
    """The gateway's schema: documents within `limits`, parsed and validated once while they
    are cached (the speed-up DESIGN §9 measured); in production, without introspection or any
    "Did you mean" suggestion (DESIGN §7). With `persisted`, documents that passed are
    registered as persisted queries and manifest mode is enforced over every transport."""
    limits = limits or QueryLimits()
    rules = limit_rules(limits)
    cache = DocumentCache(max_entries=limits.cache_entries, max_bytes=limits.cache_bytes)
    extensions: list[Any] = [
        RequestMetrics,
        AuditAccesses,
        lambda: ErrorCodes(hide_suggestions=production),
        lambda: InvalidVariables(hide_suggestions=production),
        OperationScope,
        lambda: LimitedDocuments(
            limits=limits, rules=rules, cache=cache, hide_suggestions=production
        ),
    ]
    if production:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    if persisted is not None:
        extensions.append(lambda: PersistedQueryExtension(persisted))
    schema = PanjerehSchema(
        query=Query,
        mutation=OpsMutation,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=production),
    )
    schema.document_cache = cache
    return schema
