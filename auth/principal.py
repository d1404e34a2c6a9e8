"""Who is calling: a citizen (subject = national code) or a service client with scopes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Principal", "PrincipalKind", "Scope"]


class PrincipalKind(StrEnum):
    CITIZEN = "citizen"
    SERVICE = "service"


class Scope(StrEnum):
    """Scopes a service token may carry."""

    CITIZEN_READ = "citizen:read"
    OPS = "ops"


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller of a request."""

    kind: PrincipalKind
    subject: str
    scopes: frozenset[str] = frozenset()

    @property
    def national_code(self) -> str | None:
        return self.subject if self.kind is PrincipalKind.CITIZEN else None

    def has(self, scope: Scope) -> bool:
        return scope.value in self.scopes
