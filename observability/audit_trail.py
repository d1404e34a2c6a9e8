"""What one GraphQL request did to citizens' data, collected while it runs, audited at its end.

Root resolvers note each access as they grant or refuse it (`opened`, `denied`), under the
response key of their field; the audit extension turns the trail into records when the operation
is over, when the fields asked, the agencies called and the outcome are known. Accesses to the
same citizen with the same purpose in one request (aliases) are one access. The trail holds
national codes only in memory and only for the request; records hold keyed hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from observability.audit import AccessEntry
    from observability.auditor import Auditor

__all__ = ["Access", "AccessTrail"]


@dataclass
class Access:
    """One citizen's data reached (or refused) through one or more root fields."""

    access: str  # "me" or "citizen"
    national_code: str
    purpose: str | None
    denied_code: str | None = None
    keys: list[str] = field(default_factory=list)


class AccessTrail:
    """The accesses of one request, and the auditor that will record them (None: no audit)."""

    def __init__(self, auditor: Auditor | None = None) -> None:
        self.auditor = auditor
        self.written: list[AccessEntry] = []
        """The records written for this request (the response cache writes them again for each
        answer it serves in its place)."""
        self._accesses: dict[tuple[str, str, str | None, str | None], Access] = {}

    def opened(self, key: str, access: str, national_code: str, purpose: str | None = None) -> None:
        self._note(key, Access(access, national_code, purpose))

    def denied(self, key: str, access: str, national_code: str, code: str) -> None:
        """A refused access; its purpose is not kept (it may be what was refused)."""
        self._note(key, Access(access, national_code, None, denied_code=code))

    def _note(self, key: str, access: Access) -> None:
        group = (access.access, access.national_code, access.purpose, access.denied_code)
        kept = self._accesses.setdefault(group, access)
        if key not in kept.keys:
            kept.keys.append(key)

    def write(self, entry: AccessEntry) -> None:
        """Record `entry` with the auditor, and remember it as written for this request."""
        assert self.auditor is not None
        self.auditor.record(entry)
        self.written.append(entry)

    @property
    def accesses(self) -> list[Access]:
        return list(self._accesses.values())
