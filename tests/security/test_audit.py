"""The audit over real HTTP: one record per access to a citizen's data, chained, verifiable,
without a national code; purposes validated; `me { accessLog }` paginated and isolated.

Findings this guards against: a record that said `client=… purpose='…'` but not whose data or
the outcome; purposes of zero-width spaces, NUL bytes or a megabyte accepted; free text carrying
a national code into the log. And from the review of the audit: a national code sent as
`X-Request-Id` written into records, logs and the response; the verifier crashing with a
traceback on a line holding NaN or deep nesting; a garbage last record stopping the gateway
from starting; a chain of plain SHA-256 that anyone able to write the file could recompute.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from connectors.agencies.civil_registry import CivilRegistryConnector
from observability.audit import SubjectKeyer, canonical, chain_key, record_hash
from observability.middleware import accepted_request_id, new_request_id
from sandbox import PERSONAS, FaultSpec
from server import METRICS
from tests.redis_server import delete_namespace, redis_client, throwaway_redis, unique_namespace
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.redis_topologies import every_topology
from tests.support.websocket import GraphQLSocket

A, B = PERSONAS["complete"], PERSONAS["sparse"]
ROOT = Path(__file__).resolve().parents[2]
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
KEY_SECRET = "audit-key-of-this-module-at-least-32-bytes-long"
CHAIN_KEY = chain_key(KEY_SECRET.encode())

redis_url = every_topology()  # the Redis stream and access log hold on every topology

READ = """query($nc: String!, $purpose: String!) {
  citizen(nationalCode: $nc, purpose: $purpose) {
    profile { firstName } bills { complete }
    records { tax { status } deeds { items { unit } } } } }"""
ME = "{ me { profile { firstName } address { city } } }"
LOG = """query($first: Int!, $after: String) { me { accessLog(first: $first, after: $after) {
  items { client at purpose agencies agencyNames { id nameFa nameEn } fields outcome }
  pageInfo { endCursor hasNextPage } } } }"""


def _audit(path: Path, **more: Any) -> dict[str, Any]:
    return {
        "path": str(path),
        "batch_interval_s": 0.05,
        "instance_id": "gw-test",
        "key_secret": KEY_SECRET,
        **more,
    }


async def _ask(
    gw: RunningGateway, query: str, token: str, variables: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """Send with a fresh request id; returns the id and the body."""
    request_id = new_request_id()  # one the gateway keeps: no eight digits in a row
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


async def _verify(*paths: Path, **environment: str | None) -> tuple[int, str]:
    """`python server.py audit verify FILE...` as a real process, with this module's audit key
    in its environment unless `environment` says otherwise (None removes a variable)."""
    env = {**os.environ, "PANJEREH_AUDIT__KEY_SECRET": KEY_SECRET, **environment}
    env = {name: value for name, value in env.items() if value is not None}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "server.py", "audit", "verify", *map(str, paths),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
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
        assert record["hash"] == record_hash(record, CHAIN_KEY)
        assert record["chain"] == "gw-test"
    first = next(iter(expect))
    assert by_request[first]["agencies"] == [
        "civil-registry", "electricity", "gas", "land-registry", "tax", "telecom",
        "traffic-police", "water",
    ]  # fmt: skip
    assert by_request[first]["fields"] == ["bills", "profile", "records.deeds", "records.tax"]
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
    assert "land-registry" in item["agencies"] and "records.deeds" in item["fields"]
    assert [a["id"] for a in item["agencyNames"]] == item["agencies"]
    registry = next(a for a in item["agencyNames"] if a["id"] == "civil-registry")
    assert registry["nameFa"] == CivilRegistryConnector.name_fa
    assert registry["nameEn"] == CivilRegistryConnector.name_en
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
    async with redis_client(redis_url) as client:
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
            assert all(r["hash"] == record_hash(r, CHAIN_KEY) for r in streamed)
            for code in (A, B):
                assert code not in json.dumps(streamed)
        finally:
            await delete_namespace(client, namespace)


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


# --- the request id cannot carry a national code ---------------------------------------------


def _disguised(code: str) -> list[str]:
    """A national code as a client could send it as `X-Request-Id`."""
    return [
        code,
        code.lstrip("0"),
        f"req-{code}",
        f"{code[:3]}-{code[3:9]}-{code[9]}",
        f"{code[:3]}.{code[3:6]}.{code[6:]}",
        f"id_{code[:5]}_{code[5:]}",
        "a" * 54 + code,
        code.translate(PERSIAN),
        f"{code} x",
        f"{code}\t",
    ]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))


def test_a_request_id_is_kept_only_when_it_cannot_carry_a_national_code() -> None:
    for sent in _disguised(A):
        assert accepted_request_id(sent) is None, sent
    for sent in ("abc123", "desk-7.req_42", "a" * 64, "1234567", "b1234567c1234567", "v1.2.3"):
        assert accepted_request_id(sent) == sent
    for sent in ("", "a" * 65, "a b", "a/b", "é", None):
        assert accepted_request_id(sent) is None
    for _ in range(500):  # ours pass our own rule (a hex uuid has eight digits in a row ~1 in 5)
        generated = new_request_id()
        assert accepted_request_id(generated) == generated


async def test_a_national_code_sent_as_request_id_reaches_no_record_log_or_header(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "audit.jsonl"
    answered: list[str] = []
    async with running_gateway(audit=_audit(path)) as gw:
        service = gw.service_token("caseworker-app", ["citizen:read"])
        reads = [
            ({"query": READ, "variables": {"nc": B, "purpose": "loan review"}}, service),
            ({"query": ME}, gw.token(B)),
        ]
        for sent in _disguised(A):
            for payload, token in reads:
                headers = {"X-Request-Id": sent, "Authorization": f"Bearer {token}"}
                async with gw.client.post(f"{gw.url}/graphql", json=payload, headers=headers) as r:
                    body = await r.json()
                    assert r.status == 200 and None not in body["data"].values(), body
                    answered.append(r.headers["X-Request-Id"])
        headers = {"X-Request-Id": A, "Authorization": f"Bearer {gw.token(B)}"}
        async with gw.client.ws_connect(
            gw.ws_url, protocols=["graphql-transport-ws"], headers=headers
        ) as ws:  # the upgrade request's id is the one its operations are audited under
            await ws.send_json({"type": "connection_init", "payload": {}})
            assert (await ws.receive(timeout=15)).json()["type"] == "connection_ack"
            assert "errors" not in await GraphQLSocket(ws, True).run(ME)
        kept = "desk-7.req_42"
        _, body = await gw.query(ME, token=gw.token(B), headers={"X-Request-Id": kept})
        assert "errors" not in body
        records = await _records(path, 2 * len(_disguised(A)) + 2)
    assert len(records) == 2 * len(_disguised(A)) + 2
    assert records[-1]["request"] == kept  # a plain id is kept, as the client sent it
    for request_id in [*answered, *(r["request"] for r in records)]:
        assert accepted_request_id(request_id) == request_id
    text = path.read_text(encoding="utf-8")
    logged = caplog.text
    for where in (text, logged, " ".join(answered)):
        assert A not in where and A.lstrip("0") not in where
        assert A.lstrip("0") not in _digits(where)
    assert "desk-7.req_42" in logged  # the access log does show request ids


# --- the verifier reports every malformed line, the chain needs the key ----------------------


@pytest.mark.parametrize(
    "bad",
    [
        b'{"chain":"gw-test","seq":0,"prev":"' + b"0" * 64 + b'","hash":"x","at":NaN}',
        b'{"chain":"gw-test","seq":' + b"[" * 100_000,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"chain":"gw-test","seq":1e999,"prev":"","hash":""}',
    ],
    ids=["nan", "deep-record", "deep-list", "overflow"],
)
async def test_the_command_reports_a_malformed_line_as_tampered_never_a_traceback(
    tmp_path: Path, bad: bytes
) -> None:
    path = tmp_path / "audit.jsonl"
    async with running_gateway(audit=_audit(path)) as gw:
        service = gw.service_token("caseworker-app", ["citizen:read"])
        for n in range(3):
            await _ask(gw, READ, service, {"nc": A, "purpose": f"review {n}"})
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join([lines[0], bad, *lines[1:]]) + b"\n")
    status, out = await _verify(path)
    assert status == 1 and f"TAMPERED at {path}:2" in out, out
    assert "Traceback" not in out and "Error" not in out


async def test_a_log_rechained_without_the_key_is_tampered_and_the_key_is_required(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    async with running_gateway(audit=_audit(path)) as gw:
        service = gw.service_token("caseworker-app", ["citizen:read"])
        for n in range(4):
            await _ask(gw, READ, service, {"nc": A, "purpose": f"review {n}"})
    assert (await _verify(path)) == (0, "OK: 4 records in 1 chains intact (gw-test seq 0–3)\n")
    records = [json.loads(line) for line in path.read_bytes().splitlines()]
    records[1]["subject"] = "0" * 64  # make the read look like someone else's ...
    for wrong in (b"plain", chain_key(b"another audit key, long enough: 32+ bytes")):
        for n in range(1, len(records)):  # ... and recompute every hash after it
            records[n]["prev"] = records[n - 1]["hash"]
            body = {k: v for k, v in records[n].items() if k != "hash"}
            plain = hashlib.sha256(canonical(body)).hexdigest()
            records[n]["hash"] = plain if wrong == b"plain" else record_hash(body, wrong)
        rechained = tmp_path / "rechained.jsonl"
        rechained.write_bytes(b"".join(canonical(r) + b"\n" for r in records))
        status, out = await _verify(rechained)
        assert status == 1 and f"TAMPERED at {rechained}:2 (chain gw-test, seq 1)" in out, out
    # Without the key: refused in production, the development key (a mismatch) otherwise.
    status, out = await _verify(path, PANJEREH_AUDIT__KEY_SECRET=None, PANJEREH_MODE="production")
    assert status == 2 and "PANJEREH_AUDIT__KEY_SECRET is not set" in out, out
    status, out = await _verify(path, PANJEREH_AUDIT__KEY_SECRET=None, PANJEREH_MODE=None)
    assert status == 1 and "development audit key" in out and f"TAMPERED at {path}:1" in out


# --- a bad last record does not stop the gateway ---------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        b'{"chain":"gw-test","seq":"x","prev":"p","hash":"h"}',
        b'{"chain":"gw-test","seq":NaN}',
        b'{"chain":"gw-test","seq":99999999999,"prev":"' + b"0" * 64 + b'","hash":"' + b"1" * 64
        + b'","v":2}',
    ],
    ids=["seq-text", "nan", "forged"],
)  # fmt: skip
async def test_a_bad_last_record_is_reported_and_the_gateway_starts(
    tmp_path: Path, garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.jsonl"
    async with running_gateway(audit=_audit(path)) as gw:
        service = gw.service_token("caseworker-app", ["citizen:read"])
        await _ask(gw, READ, service, {"nc": A, "purpose": "before"})
    with path.open("ab") as f:
        f.write(garbage + b"\n")
    caplog.set_level(logging.ERROR, logger="panjereh.audit")
    async with running_gateway(audit=_audit(path)) as gw:
        assert gw.app[METRICS].audit_resume_skipped._value.get() == 1
        service = gw.service_token("caseworker-app", ["citizen:read"])
        await _ask(gw, READ, service, {"nc": A, "purpose": "after"})
    [error] = [r for r in caplog.records if r.name == "panjereh.audit"]
    assert "line 2" in error.getMessage() and "gw-test" in error.getMessage()
    lines = path.read_bytes().splitlines()
    first, after = json.loads(lines[0]), json.loads(lines[2])
    assert (after["seq"], after["prev"]) == (1, first["hash"])  # continues after the good one
    status, out = await _verify(path)
    assert status == 1 and f"TAMPERED at {path}:2" in out, out
    path.write_bytes(lines[0] + b"\n" + lines[2] + b"\n")  # the bad line kept aside
    assert (await _verify(path))[0] == 0
