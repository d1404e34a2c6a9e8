"""The cost estimate of a document, checked by a validation rule before anything runs.

The model, per field of an operation (fragments expanded):

    cost(field) = 1 + agency_cost·[agency-backed] + list_size^lists · cost(its selection)

- Every field, leaf or not, costs 1: what the executor does for it.
- A field is agency-backed when its resolver is a coroutine (the schema says so: strawberry
  records `is_async` on each field); such a field may call an agency and costs `agency_cost`
  more. In this schema those are the fields of `Citizen` and `Records`.
- A list field multiplies the cost of its selection by `list_size` (the number of items it is
  assumed to hold) for each list wrapper of its type, so nested lists multiply.
- Introspection fields (`__schema`, `__type`, `__typename`) cost 1 and are not descended into:
  they are answered from the static schema, and production refuses the first two anyway.
- A field the schema does not have costs 1; the specification's rules reject it later.

Each fragment's cost at its type condition is computed once, so a document cannot make the
estimate itself expensive. The walk gives up as soon as the running total passes `max_cost`.
"""

from __future__ import annotations

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)

from schema.query_limits import MeasuredRule, QueryLimits

__all__ = ["cost_rule"]


def cost_rule(limits: QueryLimits) -> type[ASTValidationRule]:
    """The cost rule bound to `limits`."""
    return type("MaxCostRule", (_MaxCost,), {"limits": limits})


class _MaxCost(MeasuredRule):
    limit = "cost"

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.schema = context.schema

    @property
    def maximum(self) -> int:
        return self.limits.max_cost

    def measure(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return self._cost(operation.selection_set, root, frozenset())

    def _cost(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        path: frozenset[str],
    ) -> int:
        cap = self.limits.max_cost + 1
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent, path)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self._cost(selection.selection_set, inner, path)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment_measure(selection.name.value, path, self._fragment_cost)
            if total >= cap:
                return cap
        return total

    def _field_cost(
        self, node: FieldNode, parent: GraphQLNamedType | None, path: frozenset[str]
    ) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 1
        definition = parent.fields.get(name)
        if definition is None:
            return 1
        cost = 1
        strawberry_field = (definition.extensions or {}).get("strawberry-definition")
        if getattr(strawberry_field, "is_async", False):
            cost += self.limits.agency_cost
        if node.selection_set is not None:
            multiplier, named = _unwrap(definition.type, self.limits.list_size)
            cost += multiplier * self._cost(node.selection_set, named, path)
        return cost

    def _fragment_cost(self, fragment: FragmentDefinitionNode, path: frozenset[str]) -> int:
        condition = self.schema.get_type(fragment.type_condition.name.value)
        return self._cost(fragment.selection_set, condition, path)


def _unwrap(type_: GraphQLOutputType, list_size: int) -> tuple[int, GraphQLNamedType]:
    """The named type inside `type_` and `list_size` to the power of its list wrappers."""
    multiplier = 1
    while isinstance(type_, GraphQLList | GraphQLNonNull):
        if isinstance(type_, GraphQLList):
            multiplier *= list_size
        type_ = type_.of_type
    return multiplier, type_
