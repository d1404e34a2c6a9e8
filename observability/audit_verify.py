"""`python server.py audit verify FILE...`: check audit logs' hash chains, name the first break.

Records of several chains (instances) may share a file, and a chain may go on across files
(given oldest first). For each record, in order:

- **tampered**: the line is not a record (whatever it holds: garbage, NaN, nesting a thousand
  deep — never a crash), its hash is not the keyed hash of its content, or it does not link to
  the record before it in its chain (`prev`), which means one of them was replaced;
- **reordered**: its `seq` is not the next one and the missing one comes later in the input, or
  it repeats or goes back;
- **missing**: its `seq` skips records that appear nowhere (deleted), or a chain's first record
  is not seq 0.

Hashes are HMACs under the chain key derived from the audit key (`observability.audit`), so the
check needs that key: `verify_command` reads `PANJEREH_AUDIT__KEY_SECRET` like the gateway does
(the development key when it is unset outside production). A chain rewritten without the key, by
plain SHA-256 or under another key, fails at its first record. Records of version 1 (plain
SHA-256, written before keyed chains) do not verify: there was no production data then.

Exit status 0 when every chain is intact, 1 at the first problem (printed with file and line),
2 when a file cannot be read or the key is missing. Deleting the newest records of a chain
leaves a shorter chain that is intact: compare its last seq with the Redis stream's, or with the
metrics, to catch that.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from observability.audit import GENESIS, authentic, malformed, parse_line
from observability.audit_settings import KEY_ENV, AuditEnvironment

__all__ = ["Problem", "Report", "verify_command", "verify_files", "verify_lines"]

_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


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
    why: str = ""


def _parse(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """The record on a line, or None and why it is not one."""
    record = parse_line(raw)
    if record is None:
        return None, "the line is not an audit record"
    problem = malformed(record)
    if problem is not None:
        return None, f"the line is not an audit record: {problem}"
    return record, ""


def verify_lines(lines: Iterable[tuple[str, bytes]], key: bytes) -> Report:
    """Check `(where, raw line)` pairs in order under the chain key; blank lines are ignored."""
    parsed = [_Line(where, *_parse(raw)) for where, raw in lines if raw.strip()]
    positions: dict[tuple[str, int], list[int]] = {}
    for i, line in enumerate(parsed):
        if line.record is not None:
            positions.setdefault((line.record["chain"], line.record["seq"]), []).append(i)
    report = Report()
    last: dict[str, tuple[int, str, str]] = {}  # chain → (seq, hash, where)
    for i, line in enumerate(parsed):
        record = line.record
        if record is None:
            report.problem = Problem("tampered", line.where, line.why)
            return report
        chain, seq = record["chain"], record["seq"]
        where = f"{line.where} (chain {_shown(chain)}, seq {seq})"
        if not authentic(record, key):
            detail = "the hash does not match the content"
            if report.records == 0:
                detail += " (or the log was written under another audit key)"
            report.problem = Problem("tampered", where, detail)
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
    return Problem("missing", where, f"{gap} of chain {_shown(chain)} missing{after}")


def _shown(chain: str) -> str:
    """A chain id as it may be printed: one from a tampered file could hold terminal escapes
    or text the console cannot encode."""
    return chain if _PLAIN_ID.fullmatch(chain) else ascii(chain)


def _read(paths: Sequence[str]) -> Iterable[tuple[str, bytes]]:
    for path in paths:
        with Path(path).open("rb") as f:
            for number, raw in enumerate(f, start=1):
                yield f"{path}:{number}", raw


def verify_files(paths: Sequence[str], key: bytes, *, out: TextIO = sys.stdout) -> int:
    """Print the verdict under the chain key; 0 intact, 1 a problem, 2 a file not readable."""
    try:
        report = verify_lines(list(_read(paths)), key)
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=out)
        return 2
    if report.problem is not None:
        print(str(report.problem), file=out)
        print(f"{report.records} records verified before it", file=out)
        return 1
    chains = ", ".join(f"{_shown(c)} seq {a}–{b}" for c, (a, b) in sorted(report.chains.items()))
    print(
        f"OK: {report.records} records in {len(report.chains)} chains intact ({chains})", file=out
    )
    return 0


def verify_command(
    paths: Sequence[str], *, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """`audit verify`: the key from the environment, as the gateway reads it, then the check."""
    try:
        environment = AuditEnvironment()
    except ValidationError as exc:
        wrong = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        )
        print(f"configuration error: {wrong}", file=err)
        return 2
    if not environment.has_key:
        if environment.mode == "production":
            print(
                f"error: {KEY_ENV} is not set: an audit log is checked with the key it was "
                "written under",
                file=err,
            )
            return 2
        print(
            f"note: {KEY_ENV} is not set: checking with the development audit key "
            "(the one the embedded default writes with)",
            file=err,
        )
    return verify_files(paths, environment.audit.chain_key, out=out)
