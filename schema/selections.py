"""The fields a document really asks, as the audit and the response cache read it after the fact.

Fragments (named and inline) are expanded, fields that `@skip`/`@include` leave out with the
request's variables are dropped, and a fragment spread inside itself is not followed twice (the
specification's rules refuse such documents, but this walk must not loop on one either).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
    value_from_ast_untyped,
)

__all__ = ["Selections"]


class Selections:
    """The selections of one document under one set of variables."""

    def __init__(self, document: DocumentNode, variables: Mapping[str, Any] | None) -> None:
        self._fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._variables = variables or {}

    def fields(
        self, selection: SelectionSetNode | None, seen: frozenset[str] = frozenset()
    ) -> Iterator[FieldNode]:
        """The field nodes of a selection set, fragments expanded, skipped ones left out."""
        for node in selection.selections if selection is not None else ():
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                yield node
            elif isinstance(node, InlineFragmentNode):
                yield from self.fields(node.selection_set, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self._fragments.get(name)
                if fragment is not None and name not in seen:
                    yield from self.fields(fragment.selection_set, seen | {name})

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            value = None
            for argument in directive.arguments or ():
                if argument.name.value == "if":
                    value = value_from_ast_untyped(argument.value, self._variables)
            if (name == "skip" and value is True) or (name == "include" and value is False):
                return False
        return True
