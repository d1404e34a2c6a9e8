"""`Citizen.sources`: one entry per agency this query asked about the citizen, with its state.

Which agencies: those whose data the citizen's selected fields load. They are read from the
document, not from what has run so far: graphql-core resolves the fields of an object
concurrently, and an agency field below `records` has not started its lookup when `sources` is
resolved. So the selection under this citizen is walked (fragments expanded, `@skip`/`@include`
applied, aliases followed, `records` and any other plain container descended into), each
agency-backed field gives its lookups (the `LOOKUPS` metadata of schema/fields.py, with the
field's own arguments), and a field the caller's level does not reach is left out, as it will
fail without asking any agency. The lookups are then awaited through the request's loaders: the
very tasks the fields share, started here first if the fields have not yet.

The state of each agency is what those lookups came to (resolvers/aggregate.py `settle` and
`combine`): OK, EMPTY ("no record" or an empty answer: not an error), STALE, UNAVAILABLE.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    SelectionSetNode,
    Undefined,
    get_named_type,
    value_from_ast,
)
from strawberry.types import Info

from resolvers.context import GatewayContext
from resolvers.loaders import Lookup
from schema.fields import LOOKUPS
from schema.levels import required_level
from schema.selections import Selections

__all__ = ["selected_lookups"]


def selected_lookups(info: Info[GatewayContext, None], national_code: str) -> list[Lookup]:
    """The lookups the fields selected beside this `sources` field make for the citizen (see
    the module docstring)."""
    raw: GraphQLResolveInfo = info._raw_info
    variables = _variables(raw)
    selections = Selections(DocumentNode(definitions=tuple(raw.fragments.values())), variables)
    parent_sets = _parent_selection(raw, selections)
    walk = _Walk(raw, selections, variables, national_code)
    return list(walk.lookups(raw.parent_type, parent_sets))


def _variables(raw: GraphQLResolveInfo) -> Mapping[str, Any]:
    """The operation's coerced variables (a plain dict, or graphql-core's `VariableValues`)."""
    values: Any = raw.variable_values
    return values.coerced if hasattr(values, "coerced") else values


def _parent_selection(raw: GraphQLResolveInfo, selections: Selections) -> list[SelectionSetNode]:
    """The selection sets of the object `sources` is on, following the response path from the
    operation's root (list indexes skipped; several nodes of one response key merged)."""
    keys: list[str] = []
    path = raw.path.prev  # the object holding `sources`
    while path is not None:
        if isinstance(path.key, str):
            keys.append(path.key)
        path = path.prev
    sets = [raw.operation.selection_set]
    for key in reversed(keys):
        sets = [
            node.selection_set
            for selection in sets
            for node in selections.fields(selection)
            if _key(node) == key and node.selection_set is not None
        ]
    return sets


class _Walk:
    """The selection under one citizen, read for the lookups its fields make."""

    def __init__(
        self,
        raw: GraphQLResolveInfo,
        selections: Selections,
        variables: Mapping[str, Any],
        national_code: str,
    ) -> None:
        self.context = raw.context
        self.selections = selections
        self.variables = variables
        self.national_code = national_code

    def lookups(
        self, object_type: GraphQLObjectType, sets: Sequence[SelectionSetNode]
    ) -> Iterator[Lookup]:
        principal = self.context.principal
        for selection in sets:
            for node in self.selections.fields(selection):
                field = object_type.fields.get(node.name.value)
                if field is None:  # __typename
                    continue
                level = required_level(field)
                if level is not None and (principal is None or not principal.meets(level)):
                    continue  # the field is refused, and asks no agency
                definition = (field.extensions or {}).get("strawberry-definition")
                lookups_of = (getattr(definition, "metadata", None) or {}).get(LOOKUPS)
                if lookups_of is not None:
                    arguments = _arguments(field, node, self.variables)
                    yield from lookups_of(self.context, self.national_code, arguments)
                    continue
                inner = get_named_type(field.type)
                if node.selection_set is not None and isinstance(inner, GraphQLObjectType):
                    yield from self.lookups(inner, [node.selection_set])


def _arguments(
    field: GraphQLField, node: FieldNode, variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The field's arguments by GraphQL name: as written in the node (literals or variables),
    else their defaults; validation has already checked them."""
    written = {argument.name.value: argument.value for argument in node.arguments or ()}
    arguments: dict[str, Any] = {}
    for name, definition in field.args.items():
        if name in written:
            arguments[name] = value_from_ast(written[name], definition.type, variables)
        elif definition.default_value is not Undefined:
            arguments[name] = definition.default_value
    return arguments


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value
