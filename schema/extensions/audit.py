"""Audit every access to a citizen's data once the operation is over (DESIGN §7).

Root resolvers note accesses in the request's `AccessTrail`; here, after execution, each access
becomes one record with what only the end knows: the fields asked under its root fields (from
the document, fragments and @skip/@include applied), the agencies its lookups went to (from the
request's loaders), and the outcome (ok, partial when an agency or a field failed, error when
the root field itself is null, denied when refused). Nothing here can fail quietly: if a record
cannot be made the request fails rather than answer unaudited.
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
    get_operation_ast,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from auth.principal import Principal, PrincipalKind
from domain.errors import AgencyNotFound
from observability.audit import AccessEntry, Outcome
from observability.audit_trail import Access, AccessTrail
from observability.middleware import REQUEST_ID

__all__ = ["AuditAccesses"]

CONTAINERS = frozenset({"records"})
"""Fields that only group other agency-backed fields: their children are listed instead."""


class AuditAccesses(SchemaExtension):
    """Write one audit record per access noted in the request's trail."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        trail = getattr(context, "audit", None)
        if trail is None or trail.auditor is None or not trail.accesses:
            return
        fields = _fields_by_key(
            self.execution_context.graphql_document,
            self.execution_context.operation_name,
            self.execution_context.variables or {},
        )
        result = self.execution_context.result
        data = result.data if result is not None else None
        failed_keys = (
            {error.path[0] for error in (result.errors or []) if error.path}
            if result is not None
            else set()
        )
        for access in trail.accesses:
            _record(
                trail,
                context=context,
                access=access,
                fields=fields,
                data=data,
                failed_keys=failed_keys,
            )


def _record(
    trail: AccessTrail,
    *,
    context: Any,
    access: Access,
    fields: Mapping[str, set[str]],
    data: Mapping[str, Any] | None,
    failed_keys: set[str | int],
) -> None:
    auditor = trail.auditor
    assert auditor is not None
    principal: Principal = context.principal
    if principal.kind is PrincipalKind.CITIZEN:
        actor_id = auditor.hash_of(principal.subject)
    else:
        actor_id = principal.subject
    agencies, agency_failed = _agencies(context, access.national_code)
    asked: set[str] = set()
    for key in access.keys:
        asked |= fields.get(key, set())
    request = context.request
    trail.write(
        AccessEntry(
            at=auditor.clock(),
            actor_kind=str(principal.kind),
            actor_id=actor_id,
            subject=auditor.hash_of(access.national_code),
            access=access.access,
            outcome=_outcome(access, data, failed_keys, agency_failed),
            purpose=access.purpose,
            agencies=tuple(agencies) if not access.denied_code else (),
            fields=tuple(asked),
            request_id=request.get(REQUEST_ID) if request is not None else None,
            code=access.denied_code,
        )
    )


def _outcome(
    access: Access,
    data: Mapping[str, Any] | None,
    failed_keys: set[str | int],
    agency_failed: bool,
) -> Outcome:
    if access.denied_code:
        return Outcome.DENIED
    answered = [data is not None and data.get(key) is not None for key in access.keys]
    if not any(answered):
        return Outcome.ERROR
    if not all(answered) or agency_failed or failed_keys.intersection(access.keys):
        return Outcome.PARTIAL
    return Outcome.OK


def _agencies(context: Any, national_code: str) -> tuple[set[str], bool]:
    """The agencies this request's lookups asked about the citizen, and whether one failed."""
    agencies: set[str] = set()
    failed = False
    loaders = getattr(context, "loaders", None)
    for (op, args), error in (getattr(loaders, "outcomes", None) or {}).items():
        if not args or args[0] != national_code:
            continue
        agency = getattr(getattr(op, "__self__", None), "agency_id", None)
        if agency:
            agencies.add(str(agency))
        if error is not None and not isinstance(error, AgencyNotFound):
            failed = True
    return agencies, failed


# --- the fields asked, from the document ----------------------------------------------------


def _fields_by_key(
    document: DocumentNode | None, operation_name: str | None, variables: Mapping[str, Any]
) -> dict[str, set[str]]:
    """Response key of each root field → the citizen fields asked under it."""
    if document is None:
        return {}
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return {}
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(fragments, variables)
    by_key: dict[str, set[str]] = {}
    for root in walk.fields(operation.selection_set):
        key = root.alias.value if root.alias else root.name.value
        by_key.setdefault(key, set()).update(walk.names(root.selection_set))
    return by_key


class _Walk:
    def __init__(
        self, fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any]
    ) -> None:
        self._fragments = fragments
        self._variables = variables

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

    def names(self, selection: SelectionSetNode | None) -> set[str]:
        names: set[str] = set()
        for node in self.fields(selection):
            name = node.name.value
            if name.startswith("__"):
                continue
            if name in CONTAINERS and node.selection_set is not None:
                names |= {f"{name}.{child}" for child in self.names(node.selection_set)}
            else:
                names.add(name)
        return names

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
