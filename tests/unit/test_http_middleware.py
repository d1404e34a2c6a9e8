"""The last-resort error handler, over real HTTP on loopback: a client's path may hold a
national code, and an error on it must not bring the code into the log."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from observability.middleware import Handler, access_log, last_resort

CODE = "0012345679"
DIGITS = re.compile(r"\d{10}")


async def _fails(request: web.Request) -> web.StreamResponse:
    raise RuntimeError("a bug")


@web.middleware
async def _failing_before_routing(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Stands for any middleware inside last_resort that fails, here on an unmatched path."""
    if request.match_info.route.resource is None:
        raise RuntimeError("a bug")
    return await handler(request)


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    app = web.Application(middlewares=[access_log, last_resort, _failing_before_routing])
    app.router.add_get("/records/{code}", _fails)
    server = TestServer(app)
    await server.start_server(access_log=None)  # as the gateway runs: its own access line only
    async with TestClient(server) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "path, logged",
    [(f"/records/{CODE}", "/records/{code}"), (f"/{CODE}", "(unmatched)")],
)
async def test_an_error_on_a_path_holding_a_code_logs_the_route_not_the_code(
    client: TestClient, json_lines: io.StringIO, path: str, logged: str
) -> None:
    response = await client.get(path, headers={"X-Request-Id": "crash-one"})
    assert response.status == 500
    extensions = (await response.json())["errors"][0]["extensions"]
    assert (
        extensions["code"] == "INTERNAL"
        and extensions["messageFa"] == "خطایی در سامانه رخ داد؛ کمی بعد دوباره تلاش کنید"
    )
    raw = json_lines.getvalue()
    lines = [json.loads(line) for line in raw.splitlines()]
    (error,) = [x for x in lines if x["logger"] == "panjereh.errors"]
    assert error["message"] == f"unhandled error on {logged}" and error["path"] == logged
    assert error["request_id"] == "crash-one" and "RuntimeError: a bug" in error["exc_info"]
    (access,) = [x for x in lines if x["logger"] == "panjereh.http"]
    assert access["path"] == logged and access["status"] == 500
    assert not DIGITS.search(raw), raw
