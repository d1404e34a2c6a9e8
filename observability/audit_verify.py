"""`python server.py audit verify FILE...`: check audit logs' hash chains, name the first break.

Records of several chains (instances) may share a file, and a chain may go on across files
(given oldest first). For each record, in order:

- **tampered**: the line is not a record, its hash is not the hash of its content, or it does
  not link to the record before it in its chain (`prev`), which means one of them was replaced;
- **reordered**: its `seq` is not the next one and the missing one comes later in the input, or
  it repeats or goes back;
- **missing**: its `seq` skips records that appear nowhere (deleted), or a chain's first record
  is not seq 0.

Exit status 0 when every chain is intact, 1 at the first problem (printed with file and line),
2 when a file cannot be read. Deleting the newest records of a chain leaves a shorter chain that
is intact: compare its last seq with the Redis stream's, or with the metrics, to catch that.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from observability.audit import GENESIS, record_hash

__all__ = ["Problem", "Report", "verify_files", "verify_lines"]

_REQUIRED = ("chain", "seq", "prev", "hash")


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # "tampered", "missing" or "reordered"
    where: str  # "file:line"
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.upper()} at {self.where}: {self.detail}"


@dataclass
class Report:
    records: int = 0
    chains: dict[str, tuple[int, int]] = field(default_factory=dict)  # chain → first, last seq
    problem: Problem | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class _Line:
    where: str
    record: dict[str, Any] | None


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(record, dict) or any(k not in record for k in _REQUIRED):
        return None
    if not isinstance(record["seq"], int) or not isinstance(record["chain"], str):
        return None
    return record


def verify_lines(lines: Iterable[tuple[str, bytes]]) -> Report:
    """Check `(where, raw line)` pairs in order; blank lines are ignored."""
    parsed = [_Line(where, _parse(raw)) for where, raw in lines if raw.strip()]
    positions: dict[tuple[str, int], list[int]] = {}
    for i, line in enumerate(parsed):
        if line.record is not None:
            positions.setdefault((line.record["chain"], line.record["seq"]), []).append(i)
    report = Report()
    last: dict[str, tuple[int, str, str]] = {}  # chain → (seq, hash, where)
    for i, line in enumerate(parsed):
        record = line.record
        if record is None:
            report.problem = Problem("tampered", line.where, "the line is not an audit record")
            return report
        chain, seq = record["chain"], record["seq"]
        where = f"{line.where} (chain {chain}, seq {seq})"
        if record_hash(record) != record["hash"]:
            report.problem = Problem("tampered", where, "the hash does not match the content")
            return report
        problem = _link(record, last.get(chain), where, i, positions)
        if problem is not None:
            report.problem = problem
            return report
        last[chain] = (seq, record["hash"], line.where)
        first = report.chains.get(chain, (seq, seq))[0]
        report.chains[chain] = (first, seq)
        report.records += 1
    return report


def _link(
    record: dict[str, Any],
    before: tuple[int, str, str] | None,
    where: str,
    index: int,
    positions: dict[tuple[str, int], list[int]],
) -> Problem | None:
    chain, seq = record["chain"], record["seq"]
    expected = 0 if before is None else before[0] + 1
    if seq == expected:
        prev = GENESIS if before is None else before[1]
        if record["prev"] != prev:
            after = "the chain's start" if before is None else f"the record at {before[2]}"
            return Problem("tampered", where, f"`prev` does not link to {after}: one was replaced")
        return None
    if seq < expected:
        assert before is not None
        return Problem("reordered", where, f"seq {seq} comes after seq {before[0]} ({before[2]})")
    later = [i for i in positions.get((chain, expected), []) if i > index]
    if later:
        return Problem(
            "reordered", where, f"seq {seq} comes before seq {expected}, which is further down"
        )
    gap = f"seq {expected}" if seq == expected + 1 else f"seqs {expected}–{seq - 1}"
    after = f" after {before[2]}" if before is not None else " at the chain's start"
    return Problem("missing", where, f"{gap} of chain {chain} missing{after}")


def _read(paths: Sequence[str]) -> Iterable[tuple[str, bytes]]:
    for path in paths:
        with Path(path).open("rb") as f:
            for number, raw in enumerate(f, start=1):
                yield f"{path}:{number}", raw


def verify_files(paths: Sequence[str], *, out: TextIO = sys.stdout) -> int:
    """The command: print the verdict; 0 intact, 1 a problem, 2 a file that cannot be read."""
    try:
        report = verify_lines(list(_read(paths)))
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=out)
        return 2
    if report.problem is not None:
        print(str(report.problem), file=out)
        print(f"{report.records} records verified before it", file=out)
        return 1
    chains = ", ".join(f"{c} seq {a}–{b}" for c, (a, b) in sorted(report.chains.items()))
    print(
        f"OK: {report.records} records in {len(report.chains)} chains intact ({chains})", file=out
    )
    return 0
