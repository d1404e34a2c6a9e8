"""Audit records, their hash chain, and the writer that batches them to durable sinks.

One record per access to a citizen's personal data (DESIGN §7). A record names who read (a
service's client id, or the keyed hash of a citizen), whose data (the keyed hash of the national
code: HMAC-SHA256 with the audit key, never the code), the agencies and fields asked, the purpose,
the outcome, the time, the request id and the instance. Each instance keeps one chain:

    record n  = {v, chain, seq: n, prev: hash(record n-1), ...the access...}
    hash(rec) = sha256(canonical JSON of rec without "hash")          (GENESIS before seq 0)

Canonical JSON: keys sorted, no spaces, UTF-8. Editing any field changes the record's hash;
deleting or moving a record breaks `seq` and `prev` of the next one; `audit_verify` finds both.

Where state lives: the chain (next seq, last hash) is in memory and sealed synchronously on the
event loop, so records are chained in the order accesses end. The writer keeps one pending list
per sink; a background task hands each sink its pending records every `batch_interval_s`, or at
once when `batch_size` are waiting. A sink that fails keeps its records and gets them again on
the next flush (up to `max_pending`, past which the oldest are dropped and counted: the chain
then shows the gap). A failing sink never fails a request: the answer has been sent by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from observability.metrics import Metrics

__all__ = [
    "GENESIS",
    "AccessEntry",
    "AuditChain",
    "AuditSink",
    "AuditWriter",
    "Outcome",
    "SubjectKeyer",
    "canonical",
    "record_hash",
]

log = logging.getLogger("panjereh.audit")

GENESIS = "0" * 64
RECORD_VERSION = 1


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


def record_hash(record: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of the record without its own `hash`."""
    body = {key: value for key, value in record.items() if key != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


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
    """The next link of one instance's chain."""

    def __init__(self, chain_id: str, *, seq: int = 0, prev: str = GENESIS) -> None:
        self.chain_id = chain_id
        self.seq = seq
        self.prev = prev

    @classmethod
    def resume(cls, chain_id: str, last: Mapping[str, Any] | None) -> AuditChain:
        """Continue after `last`, this chain's last record found in the file (None: start)."""
        if last is None:
            return cls(chain_id)
        return cls(chain_id, seq=int(last["seq"]) + 1, prev=str(last["hash"]))

    def seal(self, entry: AccessEntry) -> dict[str, Any]:
        record: dict[str, Any] = {
            "v": RECORD_VERSION,
            "chain": self.chain_id,
            "seq": self.seq,
            "prev": self.prev,
            **entry.body(),
        }
        record["hash"] = record_hash(record)
        self.seq += 1
        self.prev = record["hash"]
        return record


class AuditSink(Protocol):
    """Somewhere records are kept. `write` raises on failure; the writer retries later."""

    name: str

    async def write(self, records: Sequence[Mapping[str, Any]]) -> None: ...

    async def close(self) -> None: ...


class AuditWriter:
    """Seals entries into the chain and delivers them to every sink in batches."""

    def __init__(
        self,
        chain: AuditChain,
        sinks: Sequence[AuditSink],
        *,
        metrics: Metrics,
        batch_size: int = 64,
        batch_interval_s: float = 0.2,
        max_pending: int = 100_000,
    ) -> None:
        self.chain = chain
        self._sinks = list(sinks)
        self._metrics = metrics
        self._batch_size = batch_size
        self._interval = batch_interval_s
        self._max_pending = max_pending
        self._pending: dict[str, list[Mapping[str, Any]]] = {s.name: [] for s in self._sinks}
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    def submit(self, entry: AccessEntry) -> dict[str, Any]:
        """Chain the entry now; it reaches the sinks with the next batch."""
        record = self.chain.seal(entry)
        for sink in self._sinks:
            queue = self._pending[sink.name]
            queue.append(record)
            if len(queue) > self._max_pending:
                dropped = len(queue) - self._max_pending
                del queue[:dropped]
                self._metrics.audit_dropped.labels(sink.name).inc(dropped)
                log.error("audit sink %s: %d records dropped (still failing)", sink.name, dropped)
            self._metrics.audit_pending.labels(sink.name).set(len(queue))
            if len(queue) >= self._batch_size:
                self._wake.set()
        return record

    async def flush(self) -> None:
        """Give each sink what it has pending; a failure is logged, counted and kept for later."""
        async with self._lock:
            for sink in self._sinks:
                batch = list(self._pending[sink.name])
                if not batch:
                    continue
                try:
                    await sink.write(batch)
                except Exception:
                    self._metrics.audit_sink_errors.labels(sink.name).inc()
                    log.exception("audit sink %s failed; %d records kept", sink.name, len(batch))
                    continue
                del self._pending[sink.name][: len(batch)]
                self._metrics.audit_records.labels(sink.name).inc(len(batch))
                self._metrics.audit_pending.labels(sink.name).set(len(self._pending[sink.name]))

    def pending(self, sink: str) -> int:
        return len(self._pending.get(sink, ()))

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def close(self) -> None:
        """Stop the background task, flush what is pending, close the sinks.

        The task is asked to stop, not cancelled: a batch cut off mid-write would be written
        again to the file (its thread finishes the write regardless) and could leave a Redis
        connection half-way through a pipeline, losing the stream's copy."""
        if self._task is not None:
            self._closing = True
            self._wake.set()
            await self._task
        await self.flush()
        for sink in self._sinks:
            try:
                await sink.close()
            except Exception:
                log.exception("audit sink %s did not close cleanly", sink.name)
