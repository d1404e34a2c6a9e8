"""Persisted queries over real HTTP: APQ as Apollo Client speaks it, shared through Redis, and
manifest mode, which runs nothing but the listed operations."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from cache.redis import RedisCache
from sandbox import PERSONAS
from schema.persisted.manifest import APOLLO_FORMAT, sha256_hex
from server import CONNECTORS
from settings import Settings
from tests.integration.queries import BILL_INQUIRY, BILLS, PROFILE
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.redis_topologies import every_topology

ROOT = Path(__file__).resolve().parents[2]
APOLLO_DIR = Path(__file__).with_name("apollo")
CITIZEN = PERSONAS["complete"]
FORCE = """mutation Force($agency: String!, $state: CircuitOverride!) {
  setCircuit(agency: $agency, state: $state) { agency { id circuitForced } } }"""
# A bill ID and payment ID whose check digits hold (built as in test_bill_inquiry.py).
INQUIRY_VARIABLES = {"billId": "1234567825", "paymentId": "234530709"}


def persisted(sha256: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


async def post(
    gw: RunningGateway, body: dict[str, Any], token: str | None = None
) -> tuple[int, dict[str, Any], aiohttp.typedefs.LooseHeaders]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with gw.client.post(f"{gw.url}/graphql", json=body, headers=headers) as response:
        return response.status, await response.json(), response.headers


async def get(
    gw: RunningGateway, params: dict[str, Any], token: str | None = None
) -> tuple[int, str, aiohttp.typedefs.LooseHeaders]:
    """A GET as the Apollo link sends it: `extensions` and `variables` as URL-encoded JSON."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    query = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    async with gw.client.get(f"{gw.url}/graphql", params=query, headers=headers) as response:
        return response.status, await response.text(), response.headers


def code_of(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]


redis_url = every_topology()  # the test sharing hashes through Redis runs on every topology


@pytest.fixture
async def gateway() -> AsyncIterator[RunningGateway]:
    async with running_gateway() as gw:
        yield gw


# --- APQ ------------------------------------------------------------------------------------


async def test_apq_round_trip_over_post(gateway: RunningGateway) -> None:
    token = gateway.token(CITIZEN)
    sha = sha256_hex(PROFILE)

    status, body, headers = await post(gateway, {"extensions": persisted(sha)}, token)
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"  # what Apollo's link reads
    assert code_of(body) == "PERSISTED_QUERY_NOT_FOUND"
    assert headers["Cache-Control"] == "no-store"

    status, registered, _ = await post(
        gateway, {"query": PROFILE, "extensions": persisted(sha)}, token
    )
    assert status == 200 and "errors" not in registered
    status, by_hash, _ = await post(gateway, {"extensions": persisted(sha)}, token)
    assert status == 200 and by_hash == registered
    assert by_hash["data"]["me"]["profile"]["firstName"]


async def test_hash_only_get_runs_and_says_how_to_cache(gateway: RunningGateway) -> None:
    token = gateway.token(CITIZEN)
    sha = sha256_hex(BILLS)
    status, text, headers = await get(gateway, {"extensions": persisted(sha)}, token)
    assert status == 200 and json.loads(text)["errors"][0]["message"] == "PersistedQueryNotFound"
    assert headers["Cache-Control"] == "no-store"  # a CDN must not keep the "not found"

    await post(gateway, {"query": BILLS, "extensions": persisted(sha)}, token)
    # aiohttp sends `Accept: */*`: a hash-only GET must get JSON, not the GraphiQL page.
    status, text, headers = await get(gateway, {"extensions": persisted(sha)}, token)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert json.loads(text)["data"]["me"]["bills"]["items"]
    assert headers["Cache-Control"] == "private, max-age=30"
    assert headers["Vary"] == "Authorization, Accept"  # Accept: the answer's media type

    inquiry = sha256_hex(BILL_INQUIRY)
    registration = {
        "query": BILL_INQUIRY,
        "variables": INQUIRY_VARIABLES,
        "extensions": persisted(inquiry),
    }
    await post(gateway, registration)  # anonymous: runs, registers nothing
    status, text, _ = await get(
        gateway, {"extensions": persisted(inquiry), "variables": INQUIRY_VARIABLES}
    )
    assert json.loads(text)["errors"][0]["message"] == "PersistedQueryNotFound"
    await post(gateway, registration, token)
    status, text, headers = await get(
        gateway, {"extensions": persisted(inquiry), "variables": INQUIRY_VARIABLES}
    )
    assert status == 200 and json.loads(text)["data"]["billInquiry"]["billId"]
    assert headers["Cache-Control"] == "public, max-age=30"  # no token: the URL is the answer


async def test_get_answers_with_errors_are_not_stored(gateway: RunningGateway) -> None:
    token = gateway.token(CITIZEN)
    query = "{ me { profile { firstName } } }"
    sha = sha256_hex(query)
    await gateway.sandbox.set_fault("civil-registry", "down")
    _, body, _ = await post(gateway, {"query": query, "extensions": persisted(sha)}, token)
    assert body["errors"]  # registered all the same: the document is valid
    status, text, headers = await get(gateway, {"extensions": persisted(sha)}, token)
    assert status == 200 and json.loads(text)["errors"]
    assert headers["Cache-Control"] == "private, no-store"


async def test_a_mutation_is_never_run_over_get(gateway: RunningGateway) -> None:
    ops = gateway.service_token("ops-dashboard", ["ops"])
    sha = sha256_hex(FORCE)
    harmless = {"agency": "water", "state": "AUTO"}
    status, body, _ = await post(
        gateway, {"query": FORCE, "variables": harmless, "extensions": persisted(sha)}, ops
    )
    assert status == 200 and body["data"]["setCircuit"]["agency"]["circuitForced"] is False

    forcing = {"agency": "water", "state": "OPEN"}
    status, _, headers = await get(
        gateway, {"extensions": persisted(sha), "variables": forcing}, ops
    )
    assert status == 405 and headers["Allow"] == "POST"  # GraphQL over HTTP: 405 for this
    status, _, _ = await get(gateway, {"query": FORCE, "variables": forcing}, ops)
    assert status == 405
    assert gateway.app[CONNECTORS].water.breaker.forced is False


async def test_a_hash_that_does_not_match_its_query_is_refused(gateway: RunningGateway) -> None:
    token = gateway.token(CITIZEN)
    wrong = sha256_hex(BILLS)
    status, body, _ = await post(gateway, {"query": PROFILE, "extensions": persisted(wrong)}, token)
    assert status == 400 and body["data"] is None
    assert code_of(body) == "INVALID_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "extensions.persistedQuery.sha256Hash"
    for sha in (wrong, sha256_hex(PROFILE)):  # nothing was stored under either hash
        _, body, _ = await post(gateway, {"extensions": persisted(sha)}, token)
        assert code_of(body) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extension",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not a hash"}},
        {"persistedQuery": {"version": 1, "sha256Hash": "A" * 64}},
        {"persistedQuery": "0" * 64},
    ],
)
async def test_a_malformed_persisted_query_extension_is_a_typed_400(
    gateway: RunningGateway, extension: dict[str, Any]
) -> None:
    status, body, _ = await post(gateway, {"extensions": extension})
    assert status == 400 and code_of(body) == "INVALID_INPUT"


async def test_only_valid_documents_that_fit_are_registered() -> None:
    async with running_gateway(persisted_queries={"max_query_bytes": 512}) as gw:
        token = gw.token(CITIZEN)
        invalid = "{ me { profile { noSuchField } } }"
        broken = "{ me { profile { firstName } "
        too_big = "{ me { profile { firstName } } }" + " " * 600
        for query, expected in ((invalid, "errors"), (broken, "errors"), (too_big, "data")):
            sha = sha256_hex(query)
            _, body, _ = await post(gw, {"query": query, "extensions": persisted(sha)}, token)
            assert body.get(expected), body
            _, body, _ = await post(gw, {"extensions": persisted(sha)}, token)
            assert code_of(body) == "PERSISTED_QUERY_NOT_FOUND"


async def test_with_persisted_queries_off_a_hash_says_not_supported() -> None:
    async with running_gateway(persisted_queries={"mode": "off"}) as gw:
        token = gw.token(CITIZEN)
        sha = sha256_hex(PROFILE)
        status, body, _ = await post(gw, {"query": PROFILE, "extensions": persisted(sha)}, token)
        assert status == 200 and body["errors"][0]["message"] == "PersistedQueryNotSupported"
        assert code_of(body) == "PERSISTED_QUERY_NOT_SUPPORTED"
        _, body, _ = await post(gw, {"query": PROFILE}, token)
        assert body["data"]["me"]["profile"]["firstName"]


@pytest.mark.redis
async def test_a_hash_registered_on_one_instance_runs_on_another(
    redis_cache: tuple[RedisCache, str], redis_url: str
) -> None:
    cache, namespace = redis_cache
    shared = {"redis_url": redis_url, "cache_namespace": namespace.rstrip(":")}
    sha = sha256_hex(PROFILE)
    async with running_gateway(**shared) as one, running_gateway(**shared) as two:
        token = one.token(CITIZEN)
        _, body, _ = await post(two, {"extensions": persisted(sha)}, token)
        assert code_of(body) == "PERSISTED_QUERY_NOT_FOUND"
        _, registered, _ = await post(one, {"query": PROFILE, "extensions": persisted(sha)}, token)
        assert "errors" not in registered
        status, text, _ = await get(two, {"extensions": persisted(sha)}, token)
        names = {k: registered["data"]["me"]["profile"][k] for k in ("firstName", "lastName")}
        assert status == 200 and json.loads(text)["data"]["me"]["profile"].items() >= names.items()
    stored = await cache.client.get(f"{namespace.rstrip(':')}:apq:{sha}")
    assert stored == PROFILE.encode()


# --- manifest mode --------------------------------------------------------------------------


def apollo_manifest(path: Path, *bodies: str) -> Path:
    operations = [
        {"id": sha256_hex(body), "name": f"Op{i}", "type": "query", "body": body}
        for i, body in enumerate(bodies)
    ]
    path.write_text(json.dumps({"format": APOLLO_FORMAT, "version": 1, "operations": operations}))
    return path


@pytest.mark.parametrize("shape", ["apollo", "codegen"])
async def test_manifest_mode_runs_only_listed_operations(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "manifest.json"
    if shape == "apollo":
        apollo_manifest(path, PROFILE)
        listed_id = sha256_hex(PROFILE)
    else:  # Relay-style ids: the client sends the id, not a hash of the text
        listed_id = "relay-profile-1"
        path.write_text(json.dumps({listed_id: PROFILE}))
    config = {"mode": "manifest", "manifest_path": str(path)}
    async with running_gateway(persisted_queries=config) as gw:
        token = gw.token(CITIZEN)
        status, by_id, _ = await post(gw, {"extensions": persisted(listed_id)}, token)
        assert status == 200 and by_id["data"]["me"]["profile"]["firstName"]
        status, text, headers = await get(gw, {"extensions": persisted(listed_id)}, token)
        assert status == 200 and json.loads(text) == by_id
        assert headers["Cache-Control"] == "private, max-age=30"
        _, full, _ = await post(gw, {"query": PROFILE}, token)
        assert full == by_id

        calls = gw.sandbox.calls("tax")
        status, body, _ = await post(gw, {"query": "{ me { records { tax { status } } } }"}, token)
        assert status == 400 and body["data"] is None
        assert code_of(body) == "PERSISTED_QUERY_NOT_IN_LIST"
        assert gw.sandbox.calls("tax") == calls

        unlisted = sha256_hex(BILLS)
        _, body, _ = await post(gw, {"extensions": persisted(unlisted)}, token)
        assert code_of(body) == "PERSISTED_QUERY_NOT_FOUND"
        status, body, _ = await post(gw, {"query": BILLS, "extensions": persisted(unlisted)}, token)
        assert status == 400 and code_of(body) == "PERSISTED_QUERY_NOT_IN_LIST"
        _, body, _ = await post(gw, {"extensions": persisted(unlisted)}, token)
        assert code_of(body) == "PERSISTED_QUERY_NOT_FOUND"  # no registration in manifest mode


async def test_manifest_mode_holds_over_websocket(tmp_path: Path) -> None:
    config = {
        "mode": "manifest",
        "manifest_path": str(apollo_manifest(tmp_path / "m.json", PROFILE)),
    }
    async with running_gateway(persisted_queries=config) as gw:
        async with gw.client.ws_connect(
            f"{gw.url}/graphql", protocols=("graphql-transport-ws",)
        ) as ws:
            await ws.send_json({"type": "connection_init"})
            assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
            await ws.send_json(
                {"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}
            )
            message = await ws.receive_json(timeout=5)
        assert message["payload"]["errors"][0]["extensions"]["code"] == (
            "PERSISTED_QUERY_NOT_IN_LIST"
        )
        assert message["payload"].get("data") is None


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read"),
        ("{not json", "not a JSON file"),
        ("[]", "expected a JSON object"),
        ("{}", "lists no operations"),
        ('{"format": "apollo-persisted-query-manifest", "version": 2}', '"version": 1'),
        ('{"abc": 42}', "not a document string"),
        ('{"abc": "{ me { "}', "does not parse"),
    ],
)
def test_a_bad_manifest_is_a_configuration_error(
    tmp_path: Path, content: str | None, says: str
) -> None:
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValidationError, match=says):
        Settings(persisted_queries={"mode": "manifest", "manifest_path": str(path)})


def test_the_server_refuses_to_start_with_a_bad_manifest(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{"op": "query { "}')
    env = {
        **os.environ,
        "PANJEREH_PERSISTED_QUERIES__MODE": "manifest",
        "PANJEREH_PERSISTED_QUERIES__MANIFEST_PATH": str(path),
    }
    done = subprocess.run(
        [sys.executable, "server.py", "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "configuration error" in done.stderr and "does not parse" in done.stderr
    with pytest.raises(ValidationError, match="needs PANJEREH_PERSISTED_QUERIES__MANIFEST_PATH"):
        Settings(persisted_queries={"mode": "manifest"})


# --- the real Apollo Client ------------------------------------------------------------------


async def run(*args: str, cwd: Path) -> str:
    """Run a program without blocking the loop the gateway answers on; its stdout."""
    process = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


def require_program(name: str) -> str:
    """The program's path; a missing one fails under CI=true and skips elsewhere."""
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required under CI=true", pytrace=False)
    pytest.skip(f"{name} is not on PATH")


async def test_apollo_clients_persisted_query_link(gateway: RunningGateway) -> None:
    node, npm = require_program("node"), require_program("npm")
    # The lockfile pins every package; an install already in place is checked in about a second.
    await run(
        npm, "install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error",
        cwd=APOLLO_DIR,
    )  # fmt: skip
    out = await run(
        node, "apq.mjs", f"{gateway.url}/graphql", gateway.token(CITIZEN), cwd=APOLLO_DIR
    )
    result = json.loads(out.strip().splitlines()[-1])

    first_name = result["first"]["me"]["profile"]["firstName"]
    assert first_name and result["second"] == result["first"]
    hash_only, registration, by_hash = result["requests"]
    assert hash_only["method"] == "GET" and not hash_only["hasQuery"] and hash_only["sha256Hash"]
    assert registration["method"] == "POST" and registration["hasQuery"]
    assert by_hash == {**hash_only, "status": 200, "cacheControl": "private, max-age=30"}
