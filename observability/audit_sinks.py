"""Where audit records are kept: an append-only JSON-lines file, and a Redis stream.

The file is the record of truth. Each batch is one `write` of whole lines followed by `fsync`,
on a worker thread; if either fails the file is cut back to its size before the batch, so a
retried batch never leaves half a line or a duplicate (one writer per file: another process
appending to the same file between the write and the cut would lose its lines). At start the
file tells the chain where it stopped (`audit_resume`). A line left half-written by a crash is
closed with a newline first, so the next record starts on its own line and the verifier reports
the broken one.

The Redis stream (`<namespace>:audit:<instance>`, XADD with an approximate MAXLEN) is a copy for
collection and for `accessLog`; losing Redis loses nothing the file keeps.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from observability.access_index import RedisAccessIndex
from observability.audit import authentic, canonical, parse_line

__all__ = ["FileSink", "RedisStreamSink", "iter_records"]


class FileSink:
    """Append-only JSON lines, written and fsync'd per batch."""

    name = "file"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def open(self) -> None:
        """Create the file (and its directory) if needed; end a half-written last line."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        size = os.fstat(fd).st_size
        if size:
            with self.path.open("rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    os.write(fd, b"\n")
                    os.fsync(fd)
        self._fd = fd

    async def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        data = b"".join(canonical(r) + b"\n" for r in records)
        await asyncio.to_thread(self._append, data)

    def _append(self, data: bytes) -> None:
        if self._fd is None:
            raise RuntimeError("the audit file is not open")
        fd = self._fd
        size = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)
            raise

    async def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class RedisStreamSink:
    """XADD each record to this instance's stream, and service reads to the citizen's index."""

    name = "redis"

    def __init__(
        self, client: Any, *, stream: str, maxlen: int, index: RedisAccessIndex | None = None
    ) -> None:
        self._client = client
        self.stream = stream
        self._maxlen = maxlen
        self._index = index

    async def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for record in records:
            pipe.xadd(
                self.stream,
                {"record": canonical(record)},
                maxlen=self._maxlen,
                approximate=True,
            )
        if self._index is not None:
            self._index.add_to(pipe, records)
        await pipe.execute()

    async def close(self) -> None:
        return None


def iter_records(path: str | os.PathLike[str], key: bytes) -> Iterator[dict[str, Any]]:
    """Every authentic record of the file, in order (the rest is the verifier's to report):
    a line forged into the file without the key never reaches a citizen's `accessLog`."""
    if not Path(path).exists():
        return
    with Path(path).open("rb") as f:
        for line in f:
            record = parse_line(line) if line.strip() else None
            if record is not None and authentic(record, key):
                yield record
