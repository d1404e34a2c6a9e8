"""Give every error in a GraphQL response its contract shape (DESIGN §6), in one place.

Errors raised from the error tree get `extensions.code` and friends from `schema.error_codes`;
anything else is an internal fault: logged here with its stack trace, shown to the client as a
fixed message. Errors graphql-core raises itself (syntax, validation) keep their message, which
is about the query the client sent, and stand for `DocumentSyntaxError` or
`DocumentValidationError` of the error tree, whose codes they get; in production without any
"Did you mean …" hint (validation is told to hide them; variable coercion at execution is not,
so the hint is cut here too). Every error gets `messageFa`, its code's sentence for the
citizen.

Over HTTP the result is shaped when the operation ends. Over a WebSocket (`Schema.stream`) each
result is sent before the operation ends, so it is shaped in `on_stream_result` as well; shaping
twice changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from domain.errors import DocumentSyntaxError, DocumentValidationError, PanjerehError
from schema.error_codes import INTERNAL, error_extensions, message_fa

__all__ = ["ErrorCodes"]

log = logging.getLogger("panjereh.errors")

_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)
_INTERNAL_MESSAGE = "Internal error; it has been logged."


class ErrorCodes(SchemaExtension):
    """Rewrite each error of the result into `{message, path, extensions: {code, …}}`."""

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        super().__init__()
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [_shape(error, self.hide_suggestions) for error in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [_shape(error, self.hide_suggestions) for error in errors]
        yield


def _shape(error: GraphQLError, hide_suggestions: bool) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GraphQLError) and original is not error:
        return _shape(original, hide_suggestions)
    if isinstance(original, PanjerehError):
        return _rebuild(error, original.message, error_extensions(original))
    if original is None or isinstance(
        original, InvalidOperationTypeError | CannotGetOperationTypeError
    ):  # about the query the client sent (e.g. a query over the subscriptions-only graphql-ws)
        syntax = isinstance(error, GraphQLSyntaxError)
        kind = DocumentSyntaxError if syntax else DocumentValidationError
        message = _SUGGESTION.sub("", error.message) if hide_suggestions else error.message
        extensions = error_extensions(kind(message))
        return _rebuild(error, message, {**extensions, **(error.extensions or {})})
    log.error("internal error at %s", error.path, exc_info=original)
    internal = {"code": INTERNAL, "retryable": False}
    return _rebuild(error, _INTERNAL_MESSAGE, {**internal, "messageFa": message_fa(internal)})


def _rebuild(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
