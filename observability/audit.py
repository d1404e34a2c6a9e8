"""Audit records, their keyed hash chain, and reading them back from a file line.

One record per access to a citizen's personal data (DESIGN §7). A record names who read (a
service's client id, or the keyed hash of a citizen), whose data (the keyed hash of the national
code: HMAC-SHA256 with the audit key, never the code), the agencies and fields asked, the purpose,
the outcome, the time, the request id and the instance. Each instance keeps one chain:

    record n  = {v, chain, seq: n, prev: hash(record n-1), ...the access...}
    hash(rec) = HMAC-SHA256(chain key, canonical JSON of rec without "hash")  (GENESIS before 0)
    chain key = HMAC-SHA256(audit key, "audit-chain")

Canonical JSON: keys sorted, no spaces, UTF-8. Editing any field changes the record's hash;
deleting or moving a record breaks `seq` and `prev` of the next one; `audit_verify` finds both.
The hash is keyed so that whoever can write the file but does not hold the audit key cannot
recompute the chain after a record they edit. The chain key is derived, not the audit key
itself, so that it is used for nothing else (the audit key also hides citizens, `SubjectKeyer`).
Version 1 records (plain SHA-256, before keyed chains) cannot be authenticated and do not verify.

The chain (next seq, last hash) is in memory and sealed synchronously on the event loop, so
records are chained in the order accesses end; `audit_writer` delivers them to the sinks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "GENESIS",
    "AccessEntry",
    "AuditChain",
    "Outcome",
    "SubjectKeyer",
    "authentic",
    "canonical",
    "chain_key",
    "malformed",
    "parse_line",
    "record_hash",
]

GENESIS = "0" * 64
RECORD_VERSION = 2
"""2: chained with HMAC-SHA256 under the chain key; 1 (plain SHA-256) is no longer accepted."""
_CHAIN_KEY_LABEL = b"audit-chain"
MAX_LINE_BYTES = 1 << 20
"""A record is a few kilobytes; a longer line is not one and is not parsed."""


class Outcome(StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # answered, but some agency or field failed
    ERROR = "error"  # nothing about the citizen could be answered
    DENIED = "denied"  # refused before any agency was called


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash is taken over (and the form it is written in)."""
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def chain_key(audit_key: bytes) -> bytes:
    """The key records are chained under, derived from the audit key (`AuditSettings.key`)."""
    return hmac.new(audit_key, _CHAIN_KEY_LABEL, hashlib.sha256).digest()


def record_hash(record: Mapping[str, Any], key: bytes) -> str:
    """HMAC-SHA256 under the chain key over the canonical JSON of the record without `hash`.

    Raises `ValueError` for content that has no canonical form (NaN, a lone surrogate) and
    `RecursionError` for nesting too deep to encode: only a tampered record has either."""
    body = {name: value for name, value in record.items() if name != "hash"}
    return hmac.new(key, canonical(body), hashlib.sha256).hexdigest()


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """A line of an audit file as a JSON object, or None; never raises, whatever the line.

    What `canonical` could not have written is refused: NaN and infinities, invalid UTF-8,
    nesting past the interpreter's limit, a line longer than any record."""
    if len(raw) > MAX_LINE_BYTES:
        return None
    try:
        record = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        return None
    return record if isinstance(record, dict) else None


def malformed(record: Mapping[str, Any]) -> str | None:
    """What keeps `record` from being a chained record of this version (None: nothing)."""
    if not all(isinstance(record.get(name), str) for name in ("chain", "prev", "hash")):
        return "`chain`, `prev` and `hash` must be text"
    seq = record.get("seq")
    if type(seq) is not int or seq < 0:
        return "`seq` must be a whole number"
    if record.get("v") != RECORD_VERSION:
        if record.get("v") == 1:
            return "a version 1 record (plain SHA-256, before keyed chains) cannot be authenticated"
        return f"not a version {RECORD_VERSION} record"
    return None


def authentic(record: Mapping[str, Any], key: bytes) -> bool:
    """Well-formed, and its `hash` is its keyed hash: written by someone holding the key."""
    if malformed(record) is not None:
        return False
    try:
        expected = record_hash(record, key)
    except (ValueError, RecursionError):
        return False
    return hmac.compare_digest(expected.encode(), str(record["hash"]).encode("utf-8", "replace"))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number out of range")
    return value


class SubjectKeyer:
    """The keyed hash under which a citizen appears in the audit: stable, opaque, not reversible
    without the key (a national code has too few values for a plain hash to hide it)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, national_code: str) -> str:
        return hmac.new(self._key, national_code.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One access, before it is chained. `subject` and a citizen `actor_id` are keyed hashes."""

    at: float
    actor_kind: str
    actor_id: str
    subject: str
    access: str  # "me" or "citizen"
    outcome: Outcome
    purpose: str | None = None
    agencies: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    request_id: str | None = None
    code: str | None = None  # the error code of a denied access

    def body(self) -> dict[str, Any]:
        at = dt.datetime.fromtimestamp(self.at, dt.UTC)
        return {
            "at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "actor": {"kind": self.actor_kind, "id": self.actor_id},
            "subject": self.subject,
            "access": self.access,
            "purpose": self.purpose,
            "agencies": sorted(self.agencies),
            "fields": sorted(self.fields),
            "outcome": str(self.outcome),
            "code": self.code,
            "request": self.request_id,
        }


class AuditChain:
    """The next link of one instance's chain, sealed under the chain key."""

    def __init__(self, chain_id: str, key: bytes, *, seq: int = 0, prev: str = GENESIS) -> None:
        self.chain_id = chain_id
        self.seq = seq
        self.prev = prev
        self._key = key

    @classmethod
    def resume(cls, chain_id: str, key: bytes, last: Mapping[str, Any] | None) -> AuditChain:
        """Continue after `last`, this chain's last authentic record (None: start at seq 0).

        `last` comes from `audit_sinks.resume_point`, which has checked it; a record that is
        not this chain's, not well-formed or not authentic is refused here too (`ValueError`)
        rather than continued from."""
        if last is None:
            return cls(chain_id, key)
        if last.get("chain") != chain_id or not authentic(last, key):
            raise ValueError("not an authentic record of this chain")
        return cls(chain_id, key, seq=last["seq"] + 1, prev=last["hash"])

    def seal(self, entry: AccessEntry) -> dict[str, Any]:
        record: dict[str, Any] = {
            "v": RECORD_VERSION,
            "chain": self.chain_id,
            "seq": self.seq,
            "prev": self.prev,
            **entry.body(),
        }
        record["hash"] = record_hash(record, self._key)
        self.seq += 1
        self.prev = record["hash"]
        return record
