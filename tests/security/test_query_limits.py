"""Query limits hold before any work, over HTTP and WebSocket (issue: memory, CPU findings).

Each attack below took seconds and tens of megabytes before the limits; now each is refused
with QUERY_TOO_COMPLEX, naming the limit, before any resolver runs. Timings are asserted with
wide margins (the issue asks for well under 100 ms; these allow a loaded shared machine).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox import PERSONAS, sample_national_codes
from schema.http_input import MAX_BODY_BYTES
from schema.query_limits import QueryLimits
from server import VIEW
from tests.integration.queries import ME
from tests.support.gateway import RunningGateway

COMPLETE = PERSONAS["complete"]
LIMITS = QueryLimits()
REFUSED_WITHIN_S = 1.0
ME_PART = "bills { totalAmount items { kind amount } } licenses { items { number title } }"


def typenames(tag: int = 0) -> str:
    """A 0.9 MB document of `__typename`s; `tag` makes it distinct."""
    body = "__typename " * (900_000 // 11)
    return f"query Q{tag} {{ {body}}}"


ATTACKS: dict[str, tuple[str, str, bool]] = {
    # name: (document, the limit that refuses it, sent with a citizen's token)
    "0.9 MB of __typename": (typenames(), "length", False),
    "3000 aliases of me": (
        "{ " + " ".join(f"m{i}: me {{ {ME_PART} }}" for i in range(3000)) + " }",
        "length",
        True,
    ),
    "30 000 @skip": ("{ __typename " + "@skip(if: false) " * 30_000 + "}", "length", False),
    "50 000 aliases, no token": ("{ " + "a: __typename " * 50_000 + "}", "length", False),
    "nesting 100 000 deep": ("{ a " * 100_000 + "}" * 100_000, "length", False),
    # within the length limit, the parser's token limit answers
    "2000 __typename (22 KB)": ("{ " + "__typename " * 2_000 + "}", "tokens", False),
    "1500 @skip (26 KB)": ("{ __typename " + "@skip(if: false) " * 1_500 + "}", "tokens", False),
    "nesting 3000 deep (15 KB)": ("{ a " * 3_000 + "}" * 3_000, "depth", False),
    # within the token limit, the structural rules answer
    "nesting 40 deep": ("{ me " + "{ records " * 39 + "}" * 40, "depth", True),
    "40 aliases": (
        "{ me { " + " ".join(f"a{i}: nationalCode" for i in range(40)) + " } }",
        "aliases",
        True,
    ),
    "6 @skip on one field": ("{ __typename " + "@skip(if: false) " * 6 + "}", "directives", False),
    "12 root fields": ("{ " + "__typename " * 12 + "}", "rootFields", False),
    "600 list items": (
        "{ me { bills { items { " + "kind " * 600 + "} } } }",
        "cost",
        True,
    ),
}


async def post(gateway: RunningGateway, query: str, token: str | None) -> tuple[int, Any, float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    async with gateway.client.post(
        f"{gateway.url}/graphql", json={"query": query}, headers=headers
    ) as response:
        body = await response.json()
    return response.status, body, time.perf_counter() - started


@pytest.mark.parametrize("name", list(ATTACKS))
async def test_attack_is_refused_quickly_before_any_resolver(
    gateway: RunningGateway, name: str
) -> None:
    document, limit, with_token = ATTACKS[name]
    assert len(document) < MAX_BODY_BYTES
    token = gateway.token(COMPLETE) if with_token else None
    # The quickest of three, so that one pause of a busy machine is not taken for slowness; a
    # refusal that does real work is slow every time.
    answers = [await post(gateway, document, token) for _ in range(3)]
    status, body, _ = answers[0]
    elapsed = min(seconds for _, _, seconds in answers)
    assert status == 200
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == limit
    assert error["extensions"]["max"] == getattr(LIMITS, f"max_{_field(limit)}")
    assert elapsed < REFUSED_WITHIN_S
    assert len(gateway.app[VIEW].schema.document_cache) == 0  # refused documents are not kept


def _field(limit: str) -> str:
    return {"rootFields": "root_fields"}.get(limit, limit)


async def test_the_full_me_query_still_answers(gateway: RunningGateway) -> None:
    status, body = await gateway.query(
        ME, token=gateway.token(COMPLETE), variables={"mobile": "09121234567"}
    )
    assert status == 200 and "errors" not in body
    assert body["data"]["me"]["profile"]["firstName"]
    assert len(gateway.app[VIEW].schema.document_cache) == 1


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_big_documents_neither_grow_memory_nor_stall_healthz(
    gateway: RunningGateway,
) -> None:
    """Six distinct 0.9 MB documents grew a gateway by ~50 MB each and blocked /healthz for up
    to 1.6 s; now they are abandoned after the token limit and never kept."""
    await post(gateway, typenames(99), None)  # warm up buffers once
    gc.collect()
    before = rss_bytes()
    health_latencies: list[float] = []
    done = asyncio.Event()

    async def poll_health() -> None:
        while not done.is_set():
            started = time.perf_counter()
            async with gateway.client.get(f"{gateway.url}/healthz") as response:
                assert response.status == 200
            health_latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)

    poller = asyncio.create_task(poll_health())
    results = await asyncio.gather(*(post(gateway, typenames(i), None) for i in range(6)))
    done.set()
    await poller
    gc.collect()
    growth = rss_bytes() - before
    assert all(body["errors"][0]["extensions"]["limit"] == "length" for _, body, _ in results)
    assert growth < 60 * 1024 * 1024, f"RSS grew {growth / 2**20:.1f} MB"
    assert health_latencies and max(health_latencies) < 0.5


async def _ws_subscribe(ws: aiohttp.ClientWebSocketResponse, query: str) -> dict[str, Any]:
    await ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": query}})
    return await ws.receive_json(timeout=5)


async def test_same_limits_over_websocket(gateway: RunningGateway) -> None:
    async with gateway.client.ws_connect(
        f"{gateway.url}/graphql", protocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send_json({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        started = time.perf_counter()
        message = await _ws_subscribe(ws, ATTACKS["30 000 @skip"][0])
        assert time.perf_counter() - started < REFUSED_WITHIN_S
        assert message["type"] == "error"
        [error] = message["payload"]
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert error["extensions"]["limit"] == "length"
        message = await _ws_subscribe(ws, ATTACKS["1500 @skip (26 KB)"][0])
        assert message["payload"][0]["extensions"]["limit"] == "tokens"
        message = await _ws_subscribe(ws, ATTACKS["40 aliases"][0])
        assert message["payload"][0]["extensions"]["limit"] == "aliases"


async def test_websocket_messages_are_bounded_like_bodies(gateway: RunningGateway) -> None:
    """One 3.3 MB document over WebSocket took 7.5 s and 210 MB; now the socket is closed."""
    async with gateway.client.ws_connect(
        f"{gateway.url}/graphql", protocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send_json({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        query = "{ " + "__typename " * 300_000 + "}"
        await ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": query}})
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    async with gateway.client.get(f"{gateway.url}/healthz") as response:
        assert response.status == 200


async def test_the_lookup_cap_inside_aggregated_lists_is_a_typed_part_error(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """Ten aliased `citizen(...) { bills licenses }` pass every static limit but need more than
    the 64 distinct lookups a request may make: the parts past the cap say QUERY_TOO_COMPLEX,
    and nothing is logged as an internal fault (it once was, with a traceback, as INTERNAL)."""
    caplog.set_level(logging.INFO)
    service = gateway.service_token("caseworker-app", ["citizen:read"])
    reads = " ".join(
        f'c{i}: citizen(nationalCode: "{code}", purpose: "case review") '
        "{ bills { sources { agency state error { code } } } licenses { complete } }"
        for i, code in enumerate(sample_national_codes(10))
    )
    status, body = await gateway.query(f"{{ {reads} }}", token=service)
    assert status == 200
    codes = {
        source["error"]["code"]
        for read in body["data"].values()
        for source in read["bills"]["sources"]
        if source["error"]
    }
    assert codes == {"QUERY_TOO_COMPLEX"}
    assert not any(record.exc_info for record in caplog.records)
    assert "INTERNAL" not in str(body)
