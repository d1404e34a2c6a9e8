"""The root schema, assembled with its extensions; `python -m schema.export` writes the SDL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.extensions.audit import AuditAccesses
from schema.extensions.error_codes import ErrorCodes
from schema.extensions.request_metrics import RequestMetrics
from schema.ops import OpsMutation
from schema.query import Query
from schema.scalars import SCALAR_MAP

__all__ = ["SDL_PATH", "PanjerehSchema", "build_schema"]

SDL_PATH = Path(__file__).with_name("schema.graphql")


class PanjerehSchema(strawberry.Schema):
    """Strawberry's schema without its default error logging.

    Expected errors (agency down, invalid input) are not incidents, and internal ones are logged
    once, with their stack, by the `ErrorCodes` extension.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(*, production: bool = False) -> PanjerehSchema:
    """The gateway's schema with the parser and validation caches DESIGN §9 measured; in
    production, without introspection or field suggestions (DESIGN §7)."""
    extensions: list[Any] = [
        RequestMetrics,
        AuditAccesses,
        ErrorCodes,
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
    ]
    if production:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return PanjerehSchema(
        query=Query,
        mutation=OpsMutation,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=production),
    )
