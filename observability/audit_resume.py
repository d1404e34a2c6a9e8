"""Where a restarted instance's chain goes on: its last authentic record in the audit file.

The file is read backwards from its end until a record of this instance's chain that is
well-formed and carries its keyed hash (`authentic`). Lines passed over on the way that are not
records at all (a line torn by a crash, garbage) or are records of this chain that are not
authentic (edited, forged without the key, a garbage `seq`) are *skipped*: the chain continues
after the last authentic record, and the skipped lines stay where they are, so that
`audit verify` names the first of them as TAMPERED. Nothing in the file can stop the gateway
from starting; the caller logs and counts what was skipped. Records of other chains are passed
over without comment (their own instance checks them).

Continuing after the last good record, rather than starting a new chain, keeps one chain per
instance: once the skipped lines are dealt with (kept aside as evidence), the file verifies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from observability.audit import authentic, parse_line

__all__ = ["ResumePoint", "resume_point"]

_BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """This chain's last authentic record (None: none in the file), and the lines skipped
    after it (1-based line numbers, ascending)."""

    last: dict[str, Any] | None = None
    skipped: list[int] = field(default_factory=list)


def resume_point(path: str | os.PathLike[str], chain_id: str, key: bytes) -> ResumePoint:
    """Find where `chain_id` continues in the file; never raises for what the file holds."""
    file = Path(path)
    if not file.exists():
        return ResumePoint()
    with file.open("rb") as f:
        skipped_at: list[int] = []  # byte offsets, newest first
        for offset, line in _lines_backwards(f):
            if not line.strip():
                continue
            record = parse_line(line)
            if record is None:
                skipped_at.append(offset)
                continue
            if record.get("chain") != chain_id:
                continue
            if authentic(record, key):
                return ResumePoint(record, _line_numbers(f, skipped_at))
            skipped_at.append(offset)
        return ResumePoint(None, _line_numbers(f, skipped_at))


def _lines_backwards(f: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(byte offset, line without its newline), from the last line to the first."""
    pos = f.seek(0, os.SEEK_END)
    carry = b""
    while pos > 0:
        step = min(_BLOCK, pos)
        pos -= step
        f.seek(pos)
        buffer = f.read(step) + carry
        lines = buffer.split(b"\n")
        carry = lines.pop(0) if pos > 0 else b""  # may be the end of a longer line
        end = len(buffer)
        for line in reversed(lines):
            start = end - len(line)
            yield pos + start, line
            end = start - 1
    # With pos == 0 the first line is yielded from `lines`; `carry` is then empty.


def _line_numbers(f: BinaryIO, offsets: list[int]) -> list[int]:
    """1-based line numbers of the lines starting at `offsets` (only read when some exist)."""
    if not offsets:
        return []
    wanted = sorted(offsets)
    numbers: list[int] = []
    f.seek(0)
    position, newlines = 0, 0
    while wanted:
        block = f.read(_BLOCK)
        while wanted and (not block or wanted[0] < position + len(block)):
            numbers.append(1 + newlines + block.count(b"\n", 0, max(wanted.pop(0) - position, 0)))
        if not block:
            break
        newlines += block.count(b"\n")
        position += len(block)
    return numbers
