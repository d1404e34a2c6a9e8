"""Who is calling: a citizen (subject = national code) or a service client with scopes.

A citizen's `level` is the authentication level of the national window's login (`acr`, 1–3:
password, OTP, strong/in-person); fields holding sensitive records need a level (see
`schema/levels.py`). Service clients have no level: what they may read is decided by their
scopes, the purpose they state and the audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["MAX_LEVEL", "Principal", "PrincipalKind", "Scope"]

MAX_LEVEL = 3


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
    level: int = 1
    expires_at: float | None = None
    """The token's `exp` (Unix seconds): a WebSocket connection does not outlive it."""

    @property
    def national_code(self) -> str | None:
        return self.subject if self.kind is PrincipalKind.CITIZEN else None

    def has(self, scope: Scope) -> bool:
        return scope.value in self.scopes

    def meets(self, level: int) -> bool:
        """Whether this caller may read a field that needs `level` (service clients: always)."""
        return self.kind is PrincipalKind.SERVICE or self.level >= level
