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
| 3 | `records { socialSecurity healthInsurance judicialNotices tax }` |
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from domain.errors import InsufficientLevel, Unauthenticated

__all__ = ["LEVELS", "guarded"]

LEVELS: dict[str, int] = {
    "Citizen.profile": 2,
    "Citizen.address": 2,
    "Citizen.mobileCheck": 2,
    "Citizen.bills": 1,
    "Citizen.licenses": 1,
    "Records.vehicles": 2,
    "Records.education": 2,
    "Records.militaryService": 2,
    "Records.socialSecurity": 3,
    "Records.healthInsurance": 3,
    "Records.judicialNotices": 3,
    "Records.tax": 3,
    "Me.accessLog": 2,
}
"""The table above, by `Type.field`: the README and the schema descriptions repeat it."""


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
            raise Unauthenticated("a bearer token is required")
        if not principal.meets(self.level):
            raise InsufficientLevel(self.level, principal.level)
        return True


def guarded(field: str, description: str) -> dict[str, Any]:
    """Keyword arguments for `strawberry.field` of `Type.field` (a key of `LEVELS`): the
    permission, and the description with the level it needs, so that the SDL documents it."""
    level = LEVELS[field]
    return {
        "description": f"{description} Needs authentication level {level}.",
        "extensions": [PermissionExtension([_AtLeast(level)], use_directives=False)],
    }
