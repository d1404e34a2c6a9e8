"""One kept answer, as bytes in a cache backend, and how it is rendered when served.

The answer is kept serialised, with each `ageSeconds` value replaced by a slot: a marker string
made of a random per-entry token and the slot's number. Each slot remembers the fetch time of the
agency answer it reports, so serving is one substitution of "now − fetched at" per slot into the
kept bytes: the ages are as right as if the query had run now, and no JSON is parsed.

    stored_at, fresh_until (unix s) │ token (16 B) │ slot fetch times │ audit (JSON) │ body

The audit part holds the access records the answer stands for (keyed hashes only, no national
code); each serve of the answer writes them again with its own time and request id.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from schema import json_bytes

__all__ = ["CachedResponse", "slot_marker"]

_HEAD = struct.Struct("!ddHI")  # stored_at, fresh_until, slot count, audit length
_SLOT = struct.Struct("!d")
_TOKEN_BYTES = 16


def new_token() -> bytes:
    """A marker prefix no agency answer or client input can guess."""
    return os.urandom(_TOKEN_BYTES // 2).hex().encode()


def slot_marker(token: bytes, index: int) -> str:
    """The string that stands for slot `index` in the kept body (serialised as `"<marker>"`)."""
    return f"{token.decode()}:{index}"


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A serialised answer with its age slots, audit records and freshness."""

    stored_at: float
    fresh_until: float
    token: bytes
    body: bytes
    fetched_at: tuple[float, ...] = ()
    audit: tuple[dict[str, Any], ...] = ()
    _pattern: re.Pattern[bytes] | None = field(default=None, compare=False, repr=False)

    def render(self, now: float) -> bytes:
        """The body as it would be computed at `now`: every age measured from its fetch time."""
        if not self.fetched_at:
            return self.body
        pattern = self._pattern or re.compile(b'"' + re.escape(self.token) + rb':(\d+)"')
        ages = [str(int(max(0.0, now - at))).encode() for at in self.fetched_at]

        def age(match: re.Match[bytes]) -> bytes:
            index = int(match.group(1))
            return ages[index] if index < len(ages) else b"0"

        return pattern.sub(age, self.body)

    def to_bytes(self) -> bytes:
        audit = json_bytes.dumps(list(self.audit)) if self.audit else b""
        head = _HEAD.pack(self.stored_at, self.fresh_until, len(self.fetched_at), len(audit))
        slots = b"".join(_SLOT.pack(at) for at in self.fetched_at)
        return head + self.token + slots + audit + self.body

    @classmethod
    def from_bytes(cls, raw: bytes) -> CachedResponse | None:
        """The entry, or None when `raw` is not one (damaged, or written by another version)."""
        try:
            stored_at, fresh_until, count, audit_len = _HEAD.unpack_from(raw)
            at = _HEAD.size
            token = raw[at : at + _TOKEN_BYTES]
            at += _TOKEN_BYTES
            fetched = tuple(_SLOT.unpack_from(raw, at + i * _SLOT.size)[0] for i in range(count))
            at += count * _SLOT.size
            audit: Sequence[dict[str, Any]] = (
                json_bytes.loads(raw[at : at + audit_len]) if audit_len else ()
            )
            at += audit_len
        except (struct.error, ValueError):
            return None
        if len(token) != _TOKEN_BYTES or at > len(raw):
            return None
        pattern = re.compile(b'"' + re.escape(token) + rb':(\d+)"') if count else None
        return cls(stored_at, fresh_until, token, raw[at:], fetched, tuple(audit), pattern)
