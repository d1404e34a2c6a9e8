"""The audit over real HTTP: one record per access to a citizen's data, chained, verifiable,
without a national code; purposes validated; `me { accessLog }` paginated and isolated.

Findings this guards against: a record that said `client=… purpose='…'` but not whose data or
the outcome; purposes of zero-width spaces, NUL bytes or a megabyte accepted; free text carrying
a national code into the log.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from observability.audit import SubjectKeyer, canonical, record_hash
from sandbox import PERSONAS, FaultSpec
from server import METRICS
from tests.redis_server import delete_namespace, throwaway_redis, unique_namespace
from tests.support.gateway import RunningGateway, running_gateway

A, B = PERSONAS["complete"], PERSONAS["sparse"]
ROOT = Path(__file__).resolve().parents[2]
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

READ = """query($nc: String!, $purpose: String!) {
  citizen(nationalCode: $nc, purpose: $purpose) {
    profile { firstName } bills { complete } records { tax { status } } } }"""
ME = "{ me { profile { firstName } address { city } } }"
LOG = """query($first: Int!, $after: String) { me { accessLog(first: $first, after: $after) {
  items { client at purpose agencies fields outcome } pageInfo { endCursor hasNextPage } } } }"""


def _audit(path: Path, **more: Any) -> dict[str, Any]:
    return {"path": str(path), "batch_interval_s": 0.05, "instance_id": "gw-test", **more}


async def _ask(
    gw: RunningGateway, query: str, token: str, variables: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """Send with a fresh request id; returns the id and the body."""
    request_id = uuid.uuid4().hex
    status, body = await gw.query(
        query, token=token, variables=variables, headers={"X-Request-Id": request_id}
    )
    assert status == 200, body
    return request_id, body


async def _records(path: Path, count: int) -> list[dict[str, Any]]:
    """The file's records once it holds at least `count` (the writer batches)."""
    deadline = time.monotonic() + 10
    while True:
        lines = await asyncio.to_thread(_lines, path)
        if len(lines) >= count or time.monotonic() > deadline:
            return [json.loads(line) for line in lines]
        await asyncio.sleep(0.02)


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


async def _verify(*paths: Path) -> tuple[int, str]:
    """`python server.py audit verify FILE...` as a real process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "server.py", "audit", "verify", *map(str, paths),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode()


async def test_every_access_to_personal_data_has_exactly_one_record(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    async with running_gateway(audit=_audit(path)) as gw:
        service = gw.service_token("caseworker-app", ["citizen:read"])
        keyed = SubjectKeyer(gw.settings.audit.key)
        expect: dict[str, dict[str, Any]] = {}

        rid, body = await _ask(gw, READ, service, {"nc": A, "purpose": "loan review"})
        assert "errors" not in body
        expect[rid] = {"outcome": "ok", "subject": keyed(A), "purpose": "loan review",
                       "actor": {"kind": "service", "id": "caseworker-app"}}  # fmt: skip

        rid, body = await _ask(gw, ME, gw.token(A))
        assert body["data"]["me"]["profile"]["firstName"]
        expect[rid] = {"outcome": "ok", "subject": keyed(A), "purpose": None,
                       "actor": {"kind": "citizen", "id": keyed(A)}}  # fmt: skip

        # Aliases of one root field are one access.
        aliased = "{ me { profile { firstName } } again: me { nationalCode } }"
        rid, body = await _ask(gw, aliased, gw.token(A))
        expect[rid] = {"outcome": "ok", "subject": keyed(A), "purpose": None}

        # Persian digits name the same citizen, under the same keyed hash.
        variables = {"nc": B.translate(PERSIAN), "purpose": "x y"}
        rid, body = await _ask(gw, READ, gw.token(A), variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        expect[rid] = {"outcome": "denied", "subject": keyed(B), "code": "FORBIDDEN",
                       "actor": {"kind": "citizen", "id": keyed(A)}, "agencies": []}  # fmt: skip

        await gw.sandbox.set_fault("water", FaultSpec(mode="down"))
        rid, body = await _ask(gw, READ, service, {"nc": B, "purpose": "benefit check"})
        assert body["data"]["citizen"]["bills"]["complete"] is False
        expect[rid] = {"outcome": "partial", "subject": keyed(B)}
        await gw.sandbox.clear_fault("water")

        gw.sandbox.reset_calls()
        for bad in ("\u200b\u200b\u200b", "\x00\x00\x00", "a" * 900_000, f"check {A}",
                    f"check {A.translate(PERSIAN)}", "call ۰۹۱۲۱۲۳۴۵۶۷"):  # fmt: skip
            rid, body = await _ask(gw, READ, service, {"nc": B, "purpose": bad})
            assert body["data"] == {"citizen": None}
            [error] = body["errors"]
            assert error["extensions"]["code"] == "INVALID_INPUT"
            assert error["extensions"]["field"] == "purpose"
            expect[rid] = {"outcome": "denied", "subject": keyed(B), "purpose": None,
                           "code": "INVALID_INPUT", "agencies": []}  # fmt: skip
        assert sum(gw.sandbox.calls(agency) for agency in gw.sandbox.urls) == 0

        # Not a citizen's data: no record.
        await _ask(gw, '{ billInquiry(billId: "1", paymentId: "1") { amount } }', service)

        records = await _records(path, len(expect))
    records = await _records(path, len(expect))  # after shutdown: its flush added nothing
    by_request = {}
    for record in records:
        assert record["request"] not in by_request, "two records for one request"
        by_request[record["request"]] = record
    assert set(by_request) == set(expect)
    for rid, wanted in expect.items():
        record = by_request[rid]
        assert {k: record[k] for k in wanted} == wanted, record
        assert record["hash"] == record_hash(record)
        assert record["chain"] == "gw-test"
    first = next(iter(expect))
    assert by_request[first]["agencies"] == [
        "civil-registry", "electricity", "gas", "tax", "telecom", "traffic-police", "water"
    ]  # fmt: skip
    assert by_request[first]["fields"] == ["bills", "profile", "records.tax"]
    assert [r["seq"] for r in records] == list(range(len(records)))

    text = path.read_text(encoding="utf-8")
    for code in (A, B):
        for digits in (code, code.translate(PERSIAN), code.lstrip("0")):
            assert digits not in text
    assert "\u200b" not in text and "\\u0000" not in text and "09121234567" not in text

    status, out = await _verify(path)
    assert status == 0, out
    assert f"OK: {len(records)} records" in out

    lines = path.read_bytes().splitlines()
    edited = json.loads(lines[2])
    edited["subject"] = "0" * 64  # make the read look like someone else's
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(b"\n".join([*lines[:2], canonical(edited), *lines[3:]]) + b"\n")
    status, out = await _verify(tampered)
    assert status == 1 and f"TAMPERED at {tampered}:3" in out, out
    missing = tmp_path / "missing.jsonl"
    missing.write_bytes(b"\n".join([*lines[:4], *lines[5:]]) + b"\n")
    status, out = await _verify(missing)
    assert status == 1 and f"MISSING at {missing}:5" in out, out
    reordered = tmp_path / "reordered.jsonl"
    reordered.write_bytes(b"\n".join([lines[0], lines[2], lines[1], *lines[3:]]) + b"\n")
    status, out = await _verify(reordered)
    assert status == 1 and f"REORDERED at {reordered}:2" in out, out


async def test_a_restarted_instance_continues_its_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    for purpose in ("first run", "second run"):
        async with running_gateway(audit=_audit(path)) as gw:
            service = gw.service_token("caseworker-app", ["citizen:read"])
            await _ask(gw, READ, service, {"nc": A, "purpose": purpose})
        # leaving the block flushed the record: the file has it without waiting
        assert purpose in path.read_text(encoding="utf-8")
    records = [json.loads(line) for line in path.read_bytes().splitlines()]
    assert [(r["chain"], r["seq"]) for r in records] == [("gw-test", 0), ("gw-test", 1)]
    assert records[1]["prev"] == records[0]["hash"]
    assert (await _verify(path))[0] == 0


async def _log(gw: RunningGateway, token: str, first: int, after: str | None = None) -> Any:
    _, body = await _ask(gw, LOG, token, {"first": first, "after": after})
    assert "errors" not in body, body
    return body["data"]["me"]["accessLog"]


async def _wait_for_log(gw: RunningGateway, token: str, count: int) -> None:
    for _ in range(200):
        if len((await _log(gw, token, 100))["items"]) >= count:
            return
        await asyncio.sleep(0.05)


async def _check_access_log(gw: RunningGateway) -> None:
    service = gw.service_token("caseworker-app", ["citizen:read"])
    other = gw.service_token("tax-office", ["citizen:read"])
    for n in range(3):
        await _ask(gw, READ, service, {"nc": A, "purpose": f"review {n}"})
    await _ask(gw, READ, other, {"nc": B, "purpose": "for B only"})
    await _ask(gw, ME, gw.token(A))  # A's own reads are not listed
    await _ask(gw, READ, gw.token(A), {"nc": A, "purpose": "my own file"})
    a, b = gw.token(A), gw.token(B)
    await _wait_for_log(gw, a, 3)
    await _wait_for_log(gw, b, 1)

    page = await _log(gw, a, 2)
    assert [i["purpose"] for i in page["items"]] == ["review 2", "review 1"]
    assert page["pageInfo"]["hasNextPage"] is True
    item = page["items"][0]
    assert item["client"] == "caseworker-app" and item["outcome"] == "OK"
    assert "civil-registry" in item["agencies"] and "records.tax" in item["fields"]
    await _ask(gw, READ, service, {"nc": A, "purpose": "review 3"})  # arrives between pages
    page = await _log(gw, a, 2, page["pageInfo"]["endCursor"])
    assert [i["purpose"] for i in page["items"]] == ["review 0"]
    assert page["pageInfo"]["hasNextPage"] is False

    everything = await _log(gw, a, 100)
    assert all(i["client"] == "caseworker-app" for i in everything["items"])
    assert "for B only" not in json.dumps(everything)
    assert [i["purpose"] for i in (await _log(gw, b, 100))["items"]] == ["for B only"]

    # A service cannot ask for anyone's access log: `citizen` has no such field, `me` is theirs.
    _, body = await _ask(
        gw, READ.replace("profile { firstName }", "accessLog { items { client } }"),
        service, {"nc": A, "purpose": "peek"},
    )  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    _, body = await _ask(gw, LOG, service, {"first": 5})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    _, body = await _ask(gw, LOG, a, {"first": 5, "after": "bm90LWEtY3Vyc29y"})
    assert body["errors"][0]["extensions"]["field"] == "after"


async def test_access_log_is_paginated_and_shows_only_service_reads_of_the_caller(
    tmp_path: Path,
) -> None:
    async with running_gateway(audit=_audit(tmp_path / "audit.jsonl")) as gw:
        await _check_access_log(gw)


async def test_the_access_log_survives_a_restart_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    async with running_gateway(audit=_audit(path)) as gw:
        service = gw.service_token("caseworker-app", ["citizen:read"])
        await _ask(gw, READ, service, {"nc": A, "purpose": "before restart"})
    async with running_gateway(audit=_audit(path)) as gw:
        items = (await _log(gw, gw.token(A), 10))["items"]
        assert [i["purpose"] for i in items] == ["before restart"]


@pytest.mark.redis
async def test_records_reach_the_redis_stream_and_the_access_log_reads_redis(
    tmp_path: Path, redis_url: str
) -> None:
    namespace = unique_namespace().rstrip(":")
    client = aioredis.from_url(redis_url)
    try:
        settings = {"redis_url": redis_url, "cache_namespace": namespace}
        async with running_gateway(audit=_audit(tmp_path / "audit.jsonl"), **settings) as gw:
            await _check_access_log(gw)
            service = gw.service_token("caseworker-app", ["citizen:read"])
            await _ask(gw, READ, service, {"nc": B, "purpose": "stream check"})
        file_records = [
            json.loads(line) for line in (tmp_path / "audit.jsonl").read_bytes().splitlines()
        ]
        stream = await client.xrange(f"{namespace}:audit:gw-test")
        streamed = [json.loads(fields[b"record"]) for _, fields in stream]
        assert streamed == file_records
        assert all(r["hash"] == record_hash(r) for r in streamed)
        for code in (A, B):
            assert code not in json.dumps(streamed)
    finally:
        await delete_namespace(client, namespace)
        await client.aclose()


@pytest.mark.redis
async def test_losing_redis_loses_no_record_the_file_keeps_and_fails_no_request(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    with throwaway_redis() as (url, server):
        async with running_gateway(audit=_audit(path), redis_url=url) as gw:
            service = gw.service_token("caseworker-app", ["citizen:read"])
            await _ask(gw, READ, service, {"nc": A, "purpose": "while redis is up"})
            await _records(path, 1)
            server.kill()
            _, body = await _ask(gw, READ, service, {"nc": A, "purpose": "while redis is down"})
            assert body["data"]["citizen"]["profile"]["firstName"]
            records = await _records(path, 2)
            assert [r["purpose"] for r in records] == ["while redis is up", "while redis is down"]
            metrics = gw.app[METRICS]
            deadline = time.monotonic() + 15
            while metrics.audit_sink_errors.labels("redis")._value.get() < 1:
                assert time.monotonic() < deadline, "the Redis sink never reported its failure"
                await asyncio.sleep(0.05)
            assert metrics.audit_records.labels("file")._value.get() == 2
    assert (await _verify(path))[0] == 0
