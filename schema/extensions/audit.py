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
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from auth.principal import Principal, PrincipalKind
from connectors.pipeline.base import agency_of
from domain.errors import AgencyNotFound
from observability.audit import AccessEntry, Outcome
from observability.audit_trail import Access, AccessTrail
from observability.middleware import REQUEST_ID
from schema.selections import Selections

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
        agency = agency_of(op)
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
    selections = Selections(document, variables)
    by_key: dict[str, set[str]] = {}
    for root in selections.fields(operation.selection_set):
        key = root.alias.value if root.alias else root.name.value
        by_key.setdefault(key, set()).update(_names(selections, root.selection_set))
    return by_key


def _names(selections: Selections, selection: SelectionSetNode | None) -> set[str]:
    """The citizen fields asked in `selection`; a container's children stand for it."""
    names: set[str] = set()
    for node in selections.fields(selection):
        name = node.name.value
        if name.startswith("__"):
            continue
        if name in CONTAINERS and node.selection_set is not None:
            names |= {f"{name}.{child}" for child in _names(selections, node.selection_set)}
        else:
            names.add(name)
    return names
