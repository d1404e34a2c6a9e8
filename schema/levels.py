"""Authentication levels: which field needs which `acr`, enforced by a strawberry permission.

The national window logs citizens in at level 1 (password), 2 (one-time code to the registered
mobile) or 3 (strong: certificate or in person). A field that reads a sensitive record declares
the level it needs; a citizen below it gets `FORBIDDEN` with `extensions.requiredLevel`. The check
sits on the field itself (strawberry's `PermissionExtension`), so it holds whatever the query's
form — aliases, fragments, inline fragments, variables all resolve the same field.

Service clients (caseworkers reading `citizen(...)`) are exempt: they authenticate as a client,
not a person, and what they may read is governed by their `citizen:read` scope, the purpose they
state and the audit. A citizen token without `acr` is level 1. `bills` and `licenses` are
non-null lists whose items fail alone, and what the home screen shows: level 1.

| level | fields |
|---|---|
| 1 | `nationalCode`, `bills`, `licenses`, `records` |
| 2 | `profile`, `address`, `mobileCheck`, `accessLog` (on `me` only), `records { vehicles |
|   | education militaryService }` |
| 3 | `records { socialSecurity healthInsurance judicialNotices tax deeds }` |

Each field declares its level where it is declared (schema/fields.py `guard`); `field_levels`
reads the table back from the built schema, for the tests and the README.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLInterfaceType, GraphQLObjectType
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from domain.errors import InsufficientLevel, Unauthenticated

__all__ = ["field_levels", "guard", "required_level"]


class _AtLeast(BasePermission):
    """Grants a field to service clients and to citizens at `level` or above.

    One instance serves every request, so it keeps no per-request state: a refusal is raised
    from `has_permission` with the caller's level in the message.
    """

    def __init__(self, level: int) -> None:
        self.level = level

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            raise Unauthenticated("a bearer token is required", reason="missing")
        if not principal.meets(self.level):
            raise InsufficientLevel(self.level, principal.level)
        return True


def guard(level: int, description: str) -> dict[str, Any]:
    """Keyword arguments for `strawberry.field` of a field that needs `level`: the permission,
    and the description with the level it needs, so that the SDL documents it."""
    return {
        "description": f"{description} Needs authentication level {level}.",
        "extensions": [PermissionExtension([_AtLeast(level)], use_directives=False)],
    }


def field_levels(schema: strawberry.Schema) -> dict[str, int]:
    """`Type.field` → the level it needs, for every guarded field of `schema` (the table above).

    A field an object type has from an interface is listed once, under the interface."""
    levels: dict[str, int] = {}
    graphql_schema = schema._schema
    for type_name, graphql_type in graphql_schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            continue
        inherited = {f for i in graphql_type.interfaces for f in i.fields}
        for field_name, graphql_field in graphql_type.fields.items():
            level = required_level(graphql_field)
            if field_name not in inherited and level is not None:
                levels[f"{type_name}.{field_name}"] = level
    return levels


def required_level(graphql_field: GraphQLField) -> int | None:
    """The level a field of the built schema needs; None when it is not guarded."""
    definition = (graphql_field.extensions or {}).get("strawberry-definition")
    for extension in getattr(definition, "extensions", None) or ():
        for permission in getattr(extension, "permissions", ()):
            if isinstance(permission, _AtLeast):
                return permission.level
    return None
