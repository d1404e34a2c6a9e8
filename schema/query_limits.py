"""Limits a document must pass before any other work is done on it (DESIGN §7).

The token limit is enforced by graphql-core's parser while it reads the text, so an oversized
document is abandoned after `max_tokens` tokens, never fully parsed. The other limits are
graphql-core validation rules, run on their own before the specification's rules: those (field
merging above all) are superlinear in the number of fields, and must only ever see a document
that is already known to be small.

Each rule reports at most one error, a `QueryTooComplex` naming the limit and its value, and
stops its walk there. Walks over fragment spreads stop one level past `max_depth`, so a chain
of fragments cannot recurse further than the depth limit allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)
from graphql.language import BREAK
from pydantic import BaseModel, ConfigDict, Field

from domain.errors import QueryTooComplex
from schema.error_codes import error_extensions

__all__ = ["MeasuredRule", "QueryLimits", "limit_rules", "too_complex"]


class QueryLimits(BaseModel):
    """Bounds on one GraphQL document (`PANJEREH_LIMITS__<NAME>`).

    The defaults leave the full `me` query (313 tokens, cost 1046) several times
    below every bound.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_length: int = Field(
        32_768, ge=100, description="Characters of the document text, refused before parsing."
    )
    max_tokens: int = Field(1_000, ge=10, description="Lexical tokens in the document text.")
    max_depth: int = Field(
        12, ge=1, description="Fields on the longest path of an operation, fragments expanded."
    )
    max_aliases: int = Field(30, ge=0, description="Aliased fields in the whole document.")
    max_directives: int = Field(4, ge=0, description="Directives on one field or fragment.")
    max_root_fields: int = Field(10, ge=1, description="Fields at the root of one operation.")
    max_cost: int = Field(5_000, ge=1, description="Estimated cost (see schema.query_cost).")
    list_size: int = Field(10, ge=1, description="Items a list field is assumed to hold.")
    agency_cost: int = Field(10, ge=0, description="Extra cost of an agency-backed field.")
    cache_entries: int = Field(1_024, ge=0, description="Valid documents kept parsed.")
    cache_bytes: int = Field(
        512 * 1024, ge=0, description="Total query text of the documents kept parsed."
    )


def too_complex(limit: str, maximum: int, node: Node | None = None) -> GraphQLError:
    """The validation error for a limit that was hit. Its original error carries the code for
    the `ErrorCodes` extension; the extensions are set here too, for transports that show
    pre-execution errors without it."""
    message = f"The query exceeds the {limit} limit of {maximum}."
    error = QueryTooComplex(message, limit=limit, maximum=maximum)
    return GraphQLError(message, node, original_error=error, extensions=error_extensions(error))


def limit_rules(limits: QueryLimits) -> tuple[type[ASTValidationRule], ...]:
    """The structural limit rules, bound to `limits`."""
    from schema.query_cost import cost_rule  # the cost model lives in its own module

    bound: dict[str, Any] = {"limits": limits}
    return (
        type("MaxDirectivesRule", (_MaxDirectives,), bound),
        type("MaxAliasesRule", (_MaxAliases,), bound),
        type("MaxRootFieldsRule", (_MaxRootFields,), bound),
        type("MaxDepthRule", (_MaxDepth,), bound),
        cost_rule(limits),
    )


class _LimitRule(ASTValidationRule):
    limits: QueryLimits

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.fragments = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }

    def refuse(self, limit: str, maximum: int, node: Node | None) -> Any:
        self.report_error(too_complex(limit, maximum, node))
        return BREAK


class MeasuredRule(_LimitRule):
    """A limit on a measure of each operation, fragments expanded: refused past `maximum`.

    Each fragment is measured once per document (`fragment_measure`); a fragment spread inside
    itself, or an unknown one, measures 0 (the specification's rules report it); a chain of
    fragments deeper than the interpreter's stack is over the limit.
    """

    limit: str

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self._fragment_measures: dict[str, int] = {}

    @property
    def maximum(self) -> int:
        raise NotImplementedError

    def measure(self, operation: OperationDefinitionNode) -> int:
        raise NotImplementedError

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> Any:
        try:
            value = self.measure(node)
        except RecursionError:
            value = self.maximum + 1
        if value > self.maximum:
            return self.refuse(self.limit, self.maximum, node)
        return None

    def fragment_measure(
        self,
        name: str,
        path: frozenset[str],
        measure: Callable[[FragmentDefinitionNode, frozenset[str]], int],
    ) -> int:
        known = self._fragment_measures.get(name)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in path:
            return 0
        value = measure(fragment, path | {name})
        self._fragment_measures[name] = value
        return value


class _MaxDirectives(_LimitRule):
    """No field, fragment spread or inline fragment carries more than `max_directives`."""

    def _check(self, node: FieldNode | FragmentSpreadNode | InlineFragmentNode, *_: Any) -> Any:
        if len(node.directives or ()) > self.limits.max_directives:
            return self.refuse("directives", self.limits.max_directives, node)
        return None

    enter_field = enter_fragment_spread = enter_inline_fragment = _check


class _MaxAliases(_LimitRule):
    """At most `max_aliases` aliased fields in the document, counted as written."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.count = 0

    def enter_field(self, node: FieldNode, *_: Any) -> Any:
        if node.alias is not None:
            self.count += 1
            if self.count > self.limits.max_aliases:
                return self.refuse("aliases", self.limits.max_aliases, node)
        return None


class _MaxRootFields(MeasuredRule):
    """At most `max_root_fields` fields at the root of each operation, fragments included."""

    limit = "rootFields"

    @property
    def maximum(self) -> int:
        return self.limits.max_root_fields

    def measure(self, operation: OperationDefinitionNode) -> int:
        return self._count(operation.selection_set, frozenset())

    def _count(self, selection_set: SelectionSetNode, path: frozenset[str]) -> int:
        """Fields of the selection set, fragments expanded, capped at one past the limit."""
        cap = self.maximum + 1
        count = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                count += 1
            elif isinstance(selection, InlineFragmentNode):
                count += self._count(selection.selection_set, path)
            elif isinstance(selection, FragmentSpreadNode):
                count += self.fragment_measure(
                    selection.name.value, path, lambda f, p: self._count(f.selection_set, p)
                )
            if count >= cap:
                return cap
        return count


class _MaxDepth(MeasuredRule):
    """No path through an operation nests deeper than `max_depth`.

    Fragments are expanded (each fragment's depth is computed once); introspection fields
    (`__schema`, `__type`) are not descended into: they are answered from the static schema,
    and production refuses them anyway.
    """

    limit = "depth"

    @property
    def maximum(self) -> int:
        return self.limits.max_depth

    def measure(self, operation: OperationDefinitionNode) -> int:
        return self._depth(operation.selection_set, frozenset())

    def _depth(self, selection_set: SelectionSetNode, path: frozenset[str]) -> int:
        """Nesting below `selection_set`, capped at one past the limit."""
        cap = self.maximum + 1
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                child = selection.selection_set
                below = 0
                if child is not None and not selection.name.value.startswith("__"):
                    below = self._depth(child, path)
                deepest = max(deepest, 1 + below)
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self._depth(selection.selection_set, path))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(
                    deepest,
                    self.fragment_measure(
                        selection.name.value, path, lambda f, p: self._depth(f.selection_set, p)
                    ),
                )
            if deepest >= cap:
                return cap
        return deepest
