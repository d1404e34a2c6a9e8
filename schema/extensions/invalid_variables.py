"""A variable whose value does not fit its declared type is the client's invalid input.

    {"query": "query($m: String!) { me { mobileCheck(mobile: $m) { result } } }",
     "variables": {"m": 9121234567}}
        ──► graphql-core coerces the variables before any resolver runs and refuses 9121234567
        ──► here: INVALID_INPUT, `field: "m"`, instead of a validation failure of the document

The document is valid; the value is what is wrong, and a value is what a user typed into an
app. So it gets the code every other bad value gets from the domain parsers (DESIGN §5: "a
non-string input is INVALID_INPUT"), the way Apollo Server gives variable coercion failures
`BAD_USER_INPUT`. A literal of the wrong type written in the document itself stays a
validation failure: that is the query's author's mistake, caught before the query ever ran.

Coercion failures are told apart by where graphql-core puts them: they leave execution without
data, without a path, located at one variable definition. The message names the variable and
its type, never the value (it may be a national code); in development it keeps graphql-core's
"Did you mean …" hint. `ErrorCodes` then shapes the error like any `InvalidInput`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import GraphQLError, VariableDefinitionNode, print_ast
from strawberry.extensions import SchemaExtension

from domain.errors import InvalidInput

__all__ = ["InvalidVariables"]

_SUGGESTION = re.compile(r"Did you mean .*$", re.DOTALL)


class InvalidVariables(SchemaExtension):
    """Give a variable value refused by coercion the `InvalidInput` it is (one per request)."""

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        super().__init__()
        self.hide_suggestions = hide_suggestions

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors and result.data is None:
            result.errors = [self._typed(error) for error in result.errors]

    def _typed(self, error: GraphQLError) -> GraphQLError:
        nodes = error.nodes or []
        if error.path is not None or len(nodes) != 1:
            return error
        [node] = nodes
        if not isinstance(node, VariableDefinitionNode):
            return error
        name = node.variable.name.value
        message = f"variable ${name} needs a value of type {print_ast(node.type)}"
        hint = None if self.hide_suggestions else _SUGGESTION.search(error.message)
        if hint is not None:
            message = f"{message}. {hint.group()}"
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            original_error=InvalidInput(name, message),
        )
