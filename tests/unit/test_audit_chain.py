"""The audit chain and its verifier: tampering, deletion and reordering are named, with lines."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from observability.access_index import MemoryAccessIndex
from observability.audit import (
    GENESIS,
    AccessEntry,
    AuditChain,
    Outcome,
    SubjectKeyer,
    canonical,
    chain_key,
    record_hash,
)
from observability.audit_resume import resume_point
from observability.audit_sinks import FileSink
from observability.audit_verify import verify_files, verify_lines
from observability.audit_writer import AuditWriter
from observability.metrics import Metrics

KEYER = SubjectKeyer(b"k" * 32)
KEY = chain_key(b"k" * 32)


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
    chain = AuditChain(chain_id, KEY)
    return [canonical(chain.seal(_entry(n))) for n in range(count)]


def _verify(lines: Sequence[bytes], key: bytes = KEY) -> tuple[str | None, str | None]:
    numbered = ((f"audit.jsonl:{i}", line) for i, line in enumerate(lines, start=1))
    report = verify_lines(numbered, key)
    if report.problem is None:
        return None, None
    return report.problem.kind, report.problem.where


def test_records_link_by_hash_and_seq() -> None:
    chain = AuditChain("a", KEY)
    first, second = chain.seal(_entry(0)), chain.seal(_entry(1))
    assert (first["seq"], first["prev"]) == (0, GENESIS)
    assert (second["seq"], second["prev"]) == (1, first["hash"])
    assert first["hash"] == record_hash(first, KEY)
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
    record["hash"] = record_hash(record, KEY)
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
    assert verify_files([str(old), str(new)], KEY, out=out) == 0
    assert "OK: 6 records" in out.getvalue()
    out = io.StringIO()
    assert verify_files([str(new)], KEY, out=out) == 1
    assert f"MISSING at {new}:1" in out.getvalue()
    assert verify_files([str(tmp_path / "absent.jsonl")], KEY, out=io.StringIO()) == 2


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
    writer = AuditWriter(AuditChain("a", KEY), [good, bad], metrics=metrics, max_pending=3)
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
    chain = AuditChain("a", KEY)
    await sink.write([chain.seal(_entry(n)) for n in range(3)])
    other = AuditChain("b", KEY)
    await sink.write([other.seal(_entry(9))])
    await sink.close()
    with path.open("ab") as f:
        f.write(b'{"chain":"a","seq":3,"pre')  # a crash mid-line
    point = resume_point(path, "a", KEY)
    last = point.last
    assert last is not None and last["seq"] == 2 and point.skipped == [5]
    resumed = AuditChain.resume("a", KEY, last)
    sink = FileSink(path)
    sink.open()
    await sink.write([resumed.seal(_entry(3))])
    await sink.close()
    lines = path.read_bytes().splitlines()
    assert json.loads(lines[-1])["seq"] == 3 and json.loads(lines[-1])["prev"] == last["hash"]
    out = io.StringIO()
    assert verify_files([str(path)], KEY, out=out) == 1
    assert f"TAMPERED at {path}:5" in out.getvalue()  # the torn line, on a line of its own
    del lines[4]
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert verify_files([str(path)], KEY, out=io.StringIO()) == 0


async def test_the_memory_index_lists_service_reads_newest_first_in_pages() -> None:
    index = MemoryAccessIndex(max_per_subject=100)
    chain = AuditChain("a", KEY)
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


# --- keyed chain: rewriting without the key does not verify ---------------------------------


def _plain_sha256(record: Mapping[str, Any], _key: bytes) -> str:
    """How records were chained before keyed hashes: anyone could recompute it."""
    body = {name: value for name, value in record.items() if name != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def _rechain(lines: list[bytes], start: int, digest: Callable[[Mapping[str, Any], bytes], str],
             key: bytes) -> list[bytes]:  # fmt: skip
    """Recompute `prev` and `hash` from `start` on, as someone rewriting the file would."""
    records = [json.loads(line) for line in lines]
    for n in range(start, len(records)):
        if n:
            records[n]["prev"] = records[n - 1]["hash"]
        records[n]["hash"] = digest(records[n], key)
    return [canonical(r) for r in records]


@pytest.mark.parametrize(
    ("digest", "key"),
    [(_plain_sha256, b""), (record_hash, chain_key(b"w" * 32)), (record_hash, b"k" * 32)],
    ids=["plain-sha256", "wrong-key", "audit-key-not-chain-key"],
)
def test_a_fully_rechained_edit_without_the_chain_key_is_tampered(
    digest: Callable[[Mapping[str, Any], bytes], str], key: bytes
) -> None:
    lines = _lines("a", 5)
    edited = json.loads(lines[2])
    edited["purpose"] = "routine check"
    lines[2] = canonical(edited)
    assert _verify(_rechain(lines, 2, digest, key)) == (
        "tampered",
        "audit.jsonl:3 (chain a, seq 2)",
    )
    # A whole file written by someone without the key fails at its first record.
    assert _verify(_rechain(lines, 0, digest, key)) == (
        "tampered",
        "audit.jsonl:1 (chain a, seq 0)",
    )
    assert _verify(_rechain(lines, 0, record_hash, KEY)) == (None, None)  # with the key: it does


def test_version_1_records_are_reported_as_not_authenticated() -> None:
    records = [json.loads(line) for line in _lines("a", 2)]
    for record in records:
        record["v"] = 1
    lines = _rechain([canonical(r) for r in records], 0, _plain_sha256, b"")
    report = verify_lines([("old.jsonl:1", lines[0])], KEY)
    assert report.problem is not None and report.problem.kind == "tampered"
    assert "version 1" in report.problem.detail


def test_the_hint_about_another_key_is_given_only_at_the_first_record() -> None:
    wrong = _rechain(_lines("a", 2), 0, record_hash, chain_key(b"w" * 32))
    report = verify_lines([("f:1", wrong[0])], KEY)
    assert report.problem is not None and "another audit key" in report.problem.detail
    lines = _lines("a", 3)
    record = json.loads(lines[2])
    record["outcome"] = "ok!"
    report = verify_lines([(f"f:{i}", line) for i, line in enumerate(
        [*lines[:2], canonical(record)], start=1)], KEY)  # fmt: skip
    assert report.problem is not None and "another audit key" not in report.problem.detail


# --- malformed lines: reported with their line, never a crash --------------------------------

_GOOD = canonical(AuditChain("a", KEY).seal(_entry(0)))
_RECORD = _GOOD.decode()

MALFORMED = {
    "nan": _RECORD.replace('"at":"', '"at":NaN,"x":"'),
    "infinity": _RECORD.replace('"seq":0', '"seq":0,"x":-Infinity'),
    "float-overflow": _RECORD.replace('"seq":0', '"seq":0,"x":1e999'),
    "seq-nan": _RECORD.replace('"seq":0', '"seq":NaN'),
    "seq-text": _RECORD.replace('"seq":0', '"seq":"x"'),
    "seq-bool": _RECORD.replace('"seq":0', '"seq":true'),
    "seq-negative": _RECORD.replace('"seq":0', '"seq":-1'),
    "seq-float": _RECORD.replace('"seq":0', '"seq":2.0'),
    "seq-huge": _RECORD.replace('"seq":0', '"seq":' + "9" * 5000),
    "hash-number": _RECORD.replace('"hash":"', '"hash":1,"y":"'),
    "deep-list": "[" * 100_000 + "]" * 100_000,
    "deep-object": '{"chain":"a","seq":2,"x":' + '{"a":' * 100_000 + "1" + "}" * 100_001,
    "deep-within-limit": '{"chain":"a","seq":2,"prev":"","hash":"","v":2,"x":'
    + "[" * 900
    + "]" * 900
    + "}",
    "lone-surrogate": _RECORD.replace('"chain":"a"', '"chain":"\\ud800"'),
    "terminal-escape": _RECORD.replace('"chain":"a"', '"chain":"\\u001b[2J"'),
    "not-an-object": "[1, 2, 3]",
    "string": '"just text"',
    "invalid-utf8": "\udcff",  # written as the byte 0xff below
    "huge": '{"chain":"a","x":"' + "x" * (2 << 20) + '"}',
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_line_is_tampered_with_its_line_never_a_crash(
    tmp_path: Path, name: str
) -> None:
    lines = _lines("a", 4)
    bad = MALFORMED[name].encode("utf-8", "surrogateescape")
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"\n".join([*lines[:2], bad, *lines[2:]]) + b"\n")
    out = io.StringIO()
    assert verify_files([str(path)], KEY, out=out) == 1
    assert f"TAMPERED at {path}:3" in out.getvalue()
    assert "\x1b" not in out.getvalue()
    out.getvalue().encode()  # printable on a UTF-8 console: no lone surrogate
    # Resuming from such a file skips the line instead of failing to start.
    path.write_bytes(b"\n".join([*lines[:2], bad]) + b"\n")
    point = resume_point(path, "a", KEY)
    assert point.last is not None and point.last["seq"] == 1
    # A line of another chain is that instance's to report; anything else on ours is skipped.
    assert point.skipped == ([] if name in ("lone-surrogate", "terminal-escape") else [3])


# --- resuming after a bad last record --------------------------------------------------------


def _forged(seq: int) -> bytes:
    """A record of chain a that looks right but was hashed without the key."""
    record = AuditChain("a", KEY).seal(_entry(seq))
    record["seq"] = seq
    record["hash"] = _plain_sha256(record, b"")
    return canonical(record)


@pytest.mark.parametrize(
    "garbage",
    [
        b'{"chain":"a","seq":"x","prev":"p","hash":"h"}',
        MALFORMED["nan"].encode(),
        _forged(10**9),
        b'{"chain":"a","seq":' + b"[" * 50_000,
    ],
    ids=["seq-text", "nan", "forged-huge-seq", "torn-deep"],
)
def test_a_bad_last_record_is_skipped_and_the_chain_continues_after_the_last_good_one(
    tmp_path: Path, garbage: bytes
) -> None:
    lines = _lines("a", 3)
    other = canonical(AuditChain("b", KEY).seal(_entry(7)))
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"\n".join([*lines, garbage, other, garbage]) + b"\n")
    point = resume_point(path, "a", KEY)
    assert point.last == json.loads(lines[2]) and point.skipped == [4, 6]
    chain = AuditChain.resume("a", KEY, point.last)
    assert (chain.seq, chain.prev) == (3, point.last["hash"])
    with path.open("ab") as f:
        f.write(canonical(chain.seal(_entry(3))) + b"\n")
    out = io.StringIO()
    assert verify_files([str(path)], KEY, out=out) == 1
    assert f"TAMPERED at {path}:4" in out.getvalue()  # what happened stays visible
    kept = [line for n, line in enumerate(path.read_bytes().splitlines(), 1) if n not in (4, 6)]
    path.write_bytes(b"\n".join(kept) + b"\n")  # the bad lines taken out (kept as evidence)
    assert verify_files([str(path)], KEY, out=io.StringIO()) == 0


def test_a_chain_with_no_authentic_record_starts_again_and_resume_refuses_a_forgery(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(_forged(0) + b"\n" + _forged(1) + b"\n")
    point = resume_point(path, "a", KEY)
    assert point.last is None and point.skipped == [1, 2]
    assert AuditChain.resume("a", KEY, point.last).seq == 0
    with pytest.raises(ValueError):
        AuditChain.resume("a", KEY, json.loads(_forged(1)))
    with pytest.raises(ValueError):
        AuditChain.resume("a", KEY, {"chain": "a", "seq": "x", "hash": "h"})
    assert resume_point(tmp_path / "absent.jsonl", "a", KEY).last is None


def test_resume_finds_the_last_record_across_blocks_and_numbers_lines(tmp_path: Path) -> None:
    lines = _lines("a", 400)  # ~200 KB: several 64 KB blocks read backwards
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"\n".join([*lines[:399], b"garbage", lines[399], b"x" * 70_000]))
    point = resume_point(path, "a", KEY)
    assert point.last is not None and point.last["seq"] == 399 and point.skipped == [402]
    path.write_bytes(b"\n".join([*lines[:250], b"{", b"}"]) + b"\n")
    point = resume_point(path, "a", KEY)
    assert point.last is not None and point.last["seq"] == 249 and point.skipped == [251, 252]


# --- the command reads the key like the gateway ----------------------------------------------


def test_the_command_uses_the_configured_key_and_the_development_key_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from observability.audit_settings import DEV_AUDIT_KEY
    from observability.audit_verify import verify_command

    path = tmp_path / "audit.jsonl"
    dev = AuditChain("a", chain_key(DEV_AUDIT_KEY.encode()))
    path.write_bytes(b"".join(canonical(dev.seal(_entry(n))) + b"\n" for n in range(3)))
    monkeypatch.delenv("PANJEREH_AUDIT__KEY_SECRET", raising=False)
    monkeypatch.delenv("PANJEREH_MODE", raising=False)
    out, err = io.StringIO(), io.StringIO()
    assert verify_command([str(path)], out=out, err=err) == 0, out.getvalue()
    assert "OK: 3 records" in out.getvalue()
    assert "PANJEREH_AUDIT__KEY_SECRET is not set" in err.getvalue()
    assert "development audit key" in err.getvalue()

    monkeypatch.setenv("PANJEREH_AUDIT__KEY_SECRET", "k" * 32)
    out, err = io.StringIO(), io.StringIO()
    assert verify_command([str(path)], out=out, err=err) == 1
    assert f"TAMPERED at {path}:1" in out.getvalue() and "another audit key" in out.getvalue()
    path.write_bytes(b"\n".join(_lines("a", 3)) + b"\n")
    assert verify_command([str(path)], out=io.StringIO(), err=io.StringIO()) == 0

    monkeypatch.delenv("PANJEREH_AUDIT__KEY_SECRET")
    monkeypatch.setenv("PANJEREH_MODE", "production")
    out, err = io.StringIO(), io.StringIO()
    assert verify_command([str(path)], out=out, err=err) == 2
    assert "PANJEREH_AUDIT__KEY_SECRET is not set" in err.getvalue() and out.getvalue() == ""
    monkeypatch.setenv("PANJEREH_MODE", "staging")
    assert verify_command([str(path)], out=io.StringIO(), err=(err := io.StringIO())) == 2
    assert "configuration error: mode" in err.getvalue()
