"""The gateway's audit, assembled from settings: keyed hash, chain, writer, sinks and index.

Made once per app in a cleanup context (`Auditor.open` before serving, `close` after, which
flushes what is pending). Sinks, in order: the file (always), the Redis stream when `REDIS_URL`
is set and the stream is on, else the in-memory `accessLog` index built from the file.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cache.redis import RedisCache
from observability.access_index import AccessIndex, MemoryAccessIndex, RedisAccessIndex
from observability.audit import AccessEntry, AuditChain, SubjectKeyer
from observability.audit_resume import resume_point
from observability.audit_settings import AuditSettings
from observability.audit_sinks import FileSink, RedisStreamSink, iter_records
from observability.audit_writer import AuditSink, AuditWriter
from observability.metrics import Metrics

__all__ = ["Auditor"]

log = logging.getLogger("panjereh.audit")

_REDIS_TIMEOUT_S = 2.0  # the writer is off the request path: patience costs no client anything


class Auditor:
    """Records accesses (`record`) and answers `accessLog` (`index`)."""

    def __init__(
        self,
        *,
        keyer: SubjectKeyer,
        writer: AuditWriter,
        index: AccessIndex,
        file: FileSink,
        redis: RedisCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keyer = keyer
        self.writer = writer
        self.index = index
        self.file = file
        self.clock = clock
        self._redis = redis

    @classmethod
    async def open(
        cls,
        settings: AuditSettings,
        *,
        metrics: Metrics,
        redis_url: str | None = None,
        namespace: str = "panjereh",
    ) -> Auditor:
        chain_id = settings.chain_id
        file = FileSink(settings.file_path)
        await asyncio.to_thread(file.open)
        key = settings.chain_key
        point = await asyncio.to_thread(resume_point, file.path, chain_id, key)
        chain = AuditChain.resume(chain_id, key, point.last)
        if point.skipped:
            _report_skipped(metrics, file.path, chain, point.skipped)
        sinks: list[AuditSink] = [file]
        redis: RedisCache | None = None
        index: AccessIndex
        if redis_url and settings.redis_stream:
            redis = RedisCache.from_url(redis_url, socket_timeout=_REDIS_TIMEOUT_S)
            redis_index = RedisAccessIndex(
                redis.client, namespace=namespace, max_per_subject=settings.access_log_max
            )
            stream = f"{namespace}:audit:{chain_id}"
            sinks.append(
                RedisStreamSink(
                    redis.client, stream=stream, maxlen=settings.stream_maxlen, index=redis_index
                )
            )
            index = redis_index
        else:
            memory = MemoryAccessIndex(settings.access_log_max)
            await asyncio.to_thread(memory.add, iter_records(file.path, key))
            sinks.append(memory)
            index = memory
        writer = AuditWriter(
            chain,
            sinks,
            metrics=metrics,
            batch_size=settings.batch_size,
            batch_interval_s=settings.batch_interval_s,
            max_pending=settings.max_pending,
        )
        writer.start()
        log.info("audit chain %s continues at seq %d in %s", chain_id, chain.seq, file.path)
        return cls(
            keyer=SubjectKeyer(settings.key), writer=writer, index=index, file=file, redis=redis
        )

    def hash_of(self, national_code: str) -> str:
        return self.keyer(national_code)

    def record(self, entry: AccessEntry) -> dict[str, Any]:
        return self.writer.submit(entry)

    async def close(self) -> None:
        try:
            await self.writer.close()
        finally:
            if self._redis is not None:
                await self._redis.close()


def _report_skipped(metrics: Metrics, path: Path, chain: AuditChain, lines: list[int]) -> None:
    """Lines of the file that the chain does not continue from: say so, loudly, and count."""
    metrics.audit_resume_skipped.inc(len(lines))
    shown = ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")
    log.error(
        "audit file %s: %d line(s) after the last authentic record of chain %s are not "
        "authentic records (line %s); the chain continues at seq %d after them. "
        "`audit verify` reports the first as TAMPERED: keep the file as evidence",
        path,
        len(lines),
        chain.chain_id,
        shown,
        chain.seq,
    )
