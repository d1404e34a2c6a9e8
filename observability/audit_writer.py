"""The writer that delivers sealed audit records to durable sinks in batches.

Where state lives: the writer keeps one pending list per sink; a background task hands each
sink its pending records every `batch_interval_s`, or at once when `batch_size` are waiting. A
sink that fails keeps its records and gets them again on the next flush (up to `max_pending`,
past which the oldest are dropped and counted: the chain then shows the gap). A failing sink
never fails a request: the answer has been sent by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from observability.audit import AccessEntry, AuditChain
from observability.metrics import Metrics

__all__ = ["AuditSink", "AuditWriter"]

log = logging.getLogger("panjereh.audit")


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
