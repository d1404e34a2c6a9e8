"""Parse and validate a document only within the query limits, and keep it once it is valid.

    query text ─► known valid? ──yes──► execute (no parse, no validation)
                      │ no
                      ▼
                parse, at most max_tokens tokens ──► GRAPHQL_PARSE_FAILED / QUERY_TOO_COMPLEX
                      ▼
                limit rules alone (schema.query_limits) ──► QUERY_TOO_COMPLEX
                      ▼
                the specification's rules ──► GRAPHQL_VALIDATION_FAILED
                      ▼
                keep in the DocumentCache ─► execute

Every step before execution runs in this extension, for HTTP and WebSocket alike, so no
resolver runs for a refused document. This replaces strawberry's ParserCache and
ValidationCache: those keep every distinct document they see, valid or not.

A document that cannot be parsed leaves a one-field placeholder in the execution context, so
strawberry goes on to validation, where the parse error becomes the operation's error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    parse,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from domain.errors import BadRequest
from schema.document_cache import DocumentCache
from schema.query_limits import QueryLimits, too_complex

__all__ = ["LimitedDocuments", "parse_error"]

_PLACEHOLDER = parse("{ __typename }", no_location=True)
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


class LimitedDocuments(SchemaExtension):
    """The parse and validate steps of one operation, bounded by `limits` (one per request)."""

    def __init__(
        self,
        *,
        limits: QueryLimits,
        rules: tuple[type[ASTValidationRule], ...],
        cache: DocumentCache,
        hide_suggestions: bool,
    ) -> None:
        super().__init__()
        self.limits = limits
        self.limit_rules = rules
        self.cache = cache
        self.hide_suggestions = hide_suggestions
        self.known_valid = False
        self.refusal: GraphQLError | None = None

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            document = self.cache.get(context.query)
            if document is not None:
                self.known_valid = True
            elif len(context.query) > self.limits.max_length:
                # graphql-core's parser stops at `max_tokens`, but its error message locates
                # the stop by scanning the text: refusing a long text unread costs nothing.
                self.refusal = too_complex("length", self.limits.max_length)
                document = _PLACEHOLDER
            else:
                try:
                    document = parse(context.query, **context.parse_options)
                except GraphQLSyntaxError as error:
                    self.refusal = parse_error(error, self.limits)
                    document = _PLACEHOLDER
            context.graphql_document = document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if self.refusal is not None:
            context.pre_execution_errors = [self.refusal]
        elif document is not None and context.pre_execution_errors is None:
            errors = _ambiguous_operation(document, context)
            if not errors and not self.known_valid:
                errors = self._validate(document)
                if not errors and context.query:
                    self.cache.put(context.query, document)
            context.pre_execution_errors = errors
        yield

    def _validate(self, document: DocumentNode) -> list[GraphQLError]:
        schema = self.execution_context.schema._schema  # graphql-core's schema behind strawberry's
        errors = validate(schema, document, self.limit_rules)
        if errors:
            return errors[:1]  # the first limit hit is the answer; the others add nothing
        rules = (*self.execution_context.validation_rules, *_STRAWBERRY_RULES)
        return validate(schema, document, rules, hide_suggestions=self.hide_suggestions)


def parse_error(error: GraphQLSyntaxError, limits: QueryLimits) -> GraphQLError:
    """A parser refusal as the client should see it: a limit that was hit, or a syntax error.

    graphql-core tells its aborts apart from syntax errors only by their messages.
    """
    if error.message.endswith("Parsing aborted."):
        if "tokens" in error.message:
            return too_complex("tokens", limits.max_tokens)
        if "nested too deeply" in error.message:
            return too_complex("depth", limits.max_depth)
    return error


def _ambiguous_operation(document: DocumentNode, context: Any) -> list[GraphQLError]:
    """Several operations and no operationName: refused, rather than run the first one."""
    operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
    # strawberry keeps the name the request gave apart from the one it infers
    if operations > 1 and context._provided_operation_name is None:
        error = BadRequest("Must provide operationName if the query contains several operations.")
        return [GraphQLError(error.message, original_error=error)]
    return []
