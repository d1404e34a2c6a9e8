"""The audit chain and its verifier: tampering, deletion and reordering are named, with lines."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from observability.access_index import MemoryAccessIndex
from observability.audit import (
    GENESIS,
    AccessEntry,
    AuditChain,
    AuditWriter,
    Outcome,
    SubjectKeyer,
    canonical,
    record_hash,
)
from observability.audit_sinks import FileSink, last_record
from observability.audit_verify import verify_files, verify_lines
from observability.metrics import Metrics

KEYER = SubjectKeyer(b"k" * 32)


def _entry(n: int, *, actor: str = "caseworker-app", kind: str = "service") -> AccessEntry:
    return AccessEntry(
        at=1_700_000_000 + n,
        actor_kind=kind,
        actor_id=actor,
        subject=KEYER("0012345679"),
        access="citizen",
        outcome=Outcome.OK,
        purpose=f"review {n}",
        agencies=("tax",),
        fields=("records.tax",),
        request_id=f"req-{n}",
    )


def _lines(chain_id: str, count: int) -> list[bytes]:
    chain = AuditChain(chain_id)
    return [canonical(chain.seal(_entry(n))) for n in range(count)]


def _verify(lines: Sequence[bytes]) -> tuple[str | None, str | None]:
    report = verify_lines((f"audit.jsonl:{i}", line) for i, line in enumerate(lines, start=1))
    if report.problem is None:
        return None, None
    return report.problem.kind, report.problem.where


def test_records_link_by_hash_and_seq() -> None:
    chain = AuditChain("a")
    first, second = chain.seal(_entry(0)), chain.seal(_entry(1))
    assert (first["seq"], first["prev"]) == (0, GENESIS)
    assert (second["seq"], second["prev"]) == (1, first["hash"])
    assert first["hash"] == record_hash(first)
    assert _verify(_lines("a", 5)) == (None, None)


def test_an_edited_field_is_named_as_tampered_with_its_line() -> None:
    lines = _lines("a", 5)
    record = json.loads(lines[2])
    record["purpose"] = "something else"
    lines[2] = canonical(record)
    assert _verify(lines) == ("tampered", "audit.jsonl:3 (chain a, seq 2)")


def test_an_edited_and_rehashed_record_breaks_the_next_link() -> None:
    lines = _lines("a", 5)
    record = json.loads(lines[2])
    record["outcome"] = "denied"
    record["hash"] = record_hash(record)
    lines[2] = canonical(record)
    assert _verify(lines) == ("tampered", "audit.jsonl:4 (chain a, seq 3)")


def test_a_garbled_line_is_tampered() -> None:
    lines = _lines("a", 3)
    lines[1] = lines[1][:40]
    assert _verify(lines) == ("tampered", "audit.jsonl:2")


def test_a_deleted_record_is_named_as_missing() -> None:
    lines = _lines("a", 5)
    del lines[2]
    kind, where = _verify(lines)
    assert (kind, where) == ("missing", "audit.jsonl:3 (chain a, seq 3)")


def test_a_deleted_first_record_is_missing() -> None:
    assert _verify(_lines("a", 3)[1:]) == ("missing", "audit.jsonl:1 (chain a, seq 1)")


def test_swapped_records_are_named_as_reordered() -> None:
    lines = _lines("a", 5)
    lines[1], lines[2] = lines[2], lines[1]
    assert _verify(lines) == ("reordered", "audit.jsonl:2 (chain a, seq 2)")


def test_a_record_moved_to_the_end_is_reordered() -> None:
    lines = _lines("a", 5)
    lines.append(lines.pop(1))
    assert _verify(lines)[0] == "reordered"


def test_a_duplicated_record_is_reordered() -> None:
    lines = _lines("a", 4)
    lines.insert(3, lines[1])
    assert _verify(lines) == ("reordered", "audit.jsonl:4 (chain a, seq 1)")


def test_several_chains_interleaved_in_one_file_verify_each() -> None:
    a, b = _lines("a", 4), _lines("b", 4)
    mixed = [line for pair in zip(a, b, strict=True) for line in pair]
    assert _verify(mixed) == (None, None)
    del mixed[5]  # b's seq 2
    assert _verify(mixed) == ("missing", "audit.jsonl:7 (chain b, seq 3)")


def test_a_chain_goes_on_across_files(tmp_path: Path) -> None:
    lines = _lines("a", 6)
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    old.write_bytes(b"\n".join(lines[:3]) + b"\n")
    new.write_bytes(b"\n".join(lines[3:]) + b"\n")
    out = io.StringIO()
    assert verify_files([str(old), str(new)], out=out) == 0
    assert "OK: 6 records" in out.getvalue()
    out = io.StringIO()
    assert verify_files([str(new)], out=out) == 1
    assert f"MISSING at {new}:1" in out.getvalue()
    assert verify_files([str(tmp_path / "absent.jsonl")], out=io.StringIO()) == 2


class _Sink:
    """A sink that fails while `failing` is set, and keeps what it was given."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failing = False
        self.got: list[Mapping[str, Any]] = []

    async def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        if self.failing:
            raise OSError("disk full")
        self.got.extend(records)

    async def close(self) -> None:
        return None


async def test_a_failing_sink_keeps_its_records_and_gets_them_on_the_next_flush() -> None:
    metrics = Metrics()
    good, bad = _Sink("file"), _Sink("redis")
    bad.failing = True
    writer = AuditWriter(AuditChain("a"), [good, bad], metrics=metrics, max_pending=3)
    for n in range(2):
        writer.submit(_entry(n))
    await writer.flush()
    assert [r["seq"] for r in good.got] == [0, 1] and bad.got == []
    assert writer.pending("redis") == 2
    assert metrics.audit_sink_errors.labels("redis")._value.get() == 1
    for n in range(2, 4):
        writer.submit(_entry(n))
    assert metrics.audit_dropped.labels("redis")._value.get() == 1  # past max_pending
    bad.failing = False
    await writer.close()
    assert [r["seq"] for r in bad.got] == [1, 2, 3]
    assert [r["seq"] for r in good.got] == [0, 1, 2, 3]
    assert metrics.audit_records.labels("file")._value.get() == 4


async def test_the_file_sink_resumes_its_chain_and_ends_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = FileSink(path)
    sink.open()
    chain = AuditChain("a")
    await sink.write([chain.seal(_entry(n)) for n in range(3)])
    other = AuditChain("b")
    await sink.write([other.seal(_entry(9))])
    await sink.close()
    with path.open("ab") as f:
        f.write(b'{"chain":"a","seq":3,"pre')  # a crash mid-line
    last = last_record(path, "a")
    assert last is not None and last["seq"] == 2
    resumed = AuditChain.resume("a", last)
    sink = FileSink(path)
    sink.open()
    await sink.write([resumed.seal(_entry(3))])
    await sink.close()
    lines = path.read_bytes().splitlines()
    assert json.loads(lines[-1])["seq"] == 3 and json.loads(lines[-1])["prev"] == last["hash"]
    out = io.StringIO()
    assert verify_files([str(path)], out=out) == 1
    assert f"TAMPERED at {path}:5" in out.getvalue()  # the torn line, on a line of its own
    del lines[4]
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert verify_files([str(path)], out=io.StringIO()) == 0


async def test_the_memory_index_lists_service_reads_newest_first_in_pages() -> None:
    index = MemoryAccessIndex(max_per_subject=100)
    chain = AuditChain("a")
    records = [chain.seal(_entry(n)) for n in range(5)]
    records.append(chain.seal(_entry(5, actor=KEYER("0012345679"), kind="citizen")))  # own read
    index.add(records)
    subject = KEYER("0012345679")
    page = await index.page(subject, 2, None)
    assert [i.purpose for i in page.items] == ["review 4", "review 3"] and page.has_next_page
    index.add([chain.seal(_entry(6))])  # a new read between pages moves nothing
    page = await index.page(subject, 2, page.end_cursor)
    assert [i.purpose for i in page.items] == ["review 2", "review 1"] and page.has_next_page
    page = await index.page(subject, 2, page.end_cursor)
    assert [i.purpose for i in page.items] == ["review 0"] and not page.has_next_page
    assert (await index.page(KEYER("0023456787"), 10, None)).items == []


@pytest.mark.parametrize("cursor", ["nonsense", "cjox", ""])
async def test_a_foreign_cursor_is_invalid_input(cursor: str) -> None:
    from domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        await MemoryAccessIndex().page("x", 5, cursor)
    assert caught.value.field == "after"


def test_production_refuses_to_start_without_an_audit_key_and_path() -> None:
    from pydantic import ValidationError

    from settings import Settings

    base = {
        "mode": "production",
        "tokens": {
            "jwks_url": "https://sso.test/jwks",
            "issuers": ["https://sso.test"],
            "service_issuers": [],
        },
        "agency_urls": {"tax": "http://127.0.0.1:1"},
        "cache_key_secret": "k",
    }
    secret = "s" * 32
    for audit, missing in (
        ({"key_secret": secret}, "PANJEREH_AUDIT__PATH"),
        ({"path": "/tmp/a.jsonl"}, "PANJEREH_AUDIT__KEY_SECRET"),
        ({"path": "/tmp/a.jsonl", "key_secret": "short"}, "at least 32 bytes"),
    ):
        with pytest.raises(ValidationError, match=missing):
            Settings(**base, audit=audit)
    Settings(**base, audit={"path": "/tmp/a.jsonl", "key_secret": secret})
