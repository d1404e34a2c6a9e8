"""What a document asks, as the response cache needs to know it: whether its answer may be kept
at all, and where in an answer its `ageSeconds` values sit.

Only queries whose root fields are citizen reads or pure computations are kept
(`CACHEABLE_ROOTS`); a field whose value changes with every request (`accessLog`: the request
itself is added to it) makes the whole answer uncacheable. Age slots are found by walking the
document beside the answer (fragments expanded, @skip/@include applied, aliases followed), so an
aliased `ageSeconds` is found too; every field of that name (on `SourceInfo` and on
`SourceStatus`, the entries of `sources`) is the age of an agency answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)

from schema.selections import Selections

__all__ = ["AGE_FIELD", "CACHEABLE_ROOTS", "Shape"]

AGE_FIELD = "ageSeconds"
CACHEABLE_ROOTS = frozenset({"me", "citizen", "billInquiry", "__typename"})
NEVER_CACHED = frozenset({"accessLog"})

Path = tuple[str | int, ...]


class Shape:
    """One operation of a document, with the variables it runs with."""

    def __init__(
        self,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> None:
        self._operation = get_operation_ast(document, operation_name)
        self._selections = Selections(document, variables)

    def cacheable(self) -> bool:
        """A query of cacheable root fields that asks no field that must never be kept."""
        operation = self._operation
        if operation is None or operation.operation is not OperationType.QUERY:
            return False
        roots = list(self._selections.fields(operation.selection_set))
        if not roots or any(root.name.value not in CACHEABLE_ROOTS for root in roots):
            return False
        return not any(self._asks_never_cached(root.selection_set) for root in roots)

    def age_slots(self, data: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], str]]:
        """(object, response key) of every `ageSeconds` value in `data`."""
        if self._operation is not None:
            yield from self._slots(self._operation.selection_set, data)

    def _slots(
        self, selection: SelectionSetNode | None, data: Any
    ) -> Iterator[tuple[Mapping[str, Any], str]]:
        if isinstance(data, list):
            for item in data:
                yield from self._slots(selection, item)
            return
        if not isinstance(data, Mapping):
            return
        for node in self._selections.fields(selection):
            key = node.alias.value if node.alias else node.name.value
            if key not in data:
                continue
            if node.name.value == AGE_FIELD and isinstance(data[key], int):
                yield data, key
            elif node.selection_set is not None:
                yield from self._slots(node.selection_set, data[key])

    def _asks_never_cached(self, selection: SelectionSetNode | None) -> bool:
        for node in self._selections.fields(selection):
            if node.name.value in NEVER_CACHED or self._asks_never_cached(node.selection_set):
                return True
        return False
