"""The sandbox's admin HTTP app and its command line, driven from outside as ops would."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox import AGENCY_IDS, PERSONAS, Sandbox, person_for
from sandbox.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]
COMPLETE = PERSONAS["complete"]
WATER_PATH = f"/api/customers/{COMPLETE}/bills"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=5) as sb:
        yield sb


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, url: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any]:
    async with http.request(method, url, json=body, data=raw) as response:
        return response.status, await response.json()


async def test_agencies_listing(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, "GET", sandbox.admin_url + "/agencies")
    assert status == 200
    assert list(body) == list(AGENCY_IDS)
    for agency, state in body.items():
        assert state["url"] == sandbox.urls[agency]
        assert state["fault"]["mode"] == "up" and state["calls"] == 0
        assert state["maintenance_window"] is None


async def test_put_and_delete_fault(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    url = sandbox.admin_url + "/agencies/water/fault"
    status, body = await call(http, "PUT", url, {"mode": "rate_limited", "retry_after_s": 9})
    assert status == 200
    assert body["water"]["fault"]["mode"] == "rate_limited"
    assert body["water"]["fault"]["error_rate"] == 1.0
    async with http.get(sandbox.urls["water"] + WATER_PATH) as response:
        assert response.status == 429 and response.headers["Retry-After"] == "9"
    assert sandbox.calls("water") == 1

    status, body = await call(http, "DELETE", url)
    assert status == 200 and body["water"]["fault"]["mode"] == "up"
    async with http.get(sandbox.urls["water"] + WATER_PATH) as response:
        assert response.status == 200

    await call(http, "PUT", url, {"mode": "down"})
    with pytest.raises(aiohttp.ClientConnectorError):
        await http.get(sandbox.urls["water"] + WATER_PATH)
    status, body = await call(http, "POST", sandbox.admin_url + "/reset")
    assert status == 200 and body["water"]["fault"]["mode"] == "up" and body["water"]["calls"] == 0
    async with http.get(sandbox.urls["water"] + WATER_PATH) as response:
        assert response.status == 200


async def test_bad_fault_requests(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    url = sandbox.admin_url + "/agencies/water/fault"
    status, body = await call(http, "PUT", url, {"mode": "explode"})
    assert status == 400 and body["error"] == "invalid fault spec"
    assert any(problem.startswith("mode:") for problem in body["problems"])
    status, body = await call(http, "PUT", url, {"mode": "flaky", "error_rate": 2})
    assert status == 400 and "error_rate" in body["problems"][0]
    status, body = await call(http, "PUT", url, raw=b"not json")
    assert status == 400 and "JSON" in body["error"]
    status, body = await call(http, "PUT", sandbox.admin_url + "/agencies/nowhere/fault", {})
    assert status == 404 and "nowhere" in body["error"]
    assert sandbox.fault("water").mode == "up"


async def test_maintenance_window_endpoint(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    url = sandbox.admin_url + "/agencies/gas/maintenance-window"
    status, body = await call(http, "PUT", url, {"window": "01:00-03:30"})
    assert status == 200 and body["gas"]["maintenance_window"] == "01:00-03:30"
    status, body = await call(http, "PUT", url, {"window": "25:00-26:00"})
    assert status == 400
    status, body = await call(http, "PUT", url, {"window": None})
    assert status == 200 and body["gas"]["maintenance_window"] is None


async def test_citizens(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, "GET", sandbox.admin_url + "/citizens?count=6")
    assert status == 200 and len(body) == 6
    assert [entry["nationalCode"] for entry in body[: len(PERSONAS)]] == list(PERSONAS.values())
    complete = body[0]
    assert complete["firstName"] == person_for(COMPLETE).first_name
    assert complete["mobile"] == person_for(COMPLETE).mobile
    assert set(body[-1]) == {"nationalCode", "firstName", "lastName", "mobile"}
    assert (await call(http, "GET", sandbox.admin_url + "/citizens?count=lots"))[0] == 400


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 20)
    return process.returncode or 0, out.decode(), err.decode()


async def test_cli_serves_until_terminated(http: aiohttp.ClientSession) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        "0",
        "--fault",
        "gas=down",
        "--maintenance",
        "post=00:00-02:00",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        first = json.loads(await asyncio.wait_for(process.stdout.readline(), 20))
        assert set(first) == {"admin", "agencies"} and list(first["agencies"]) == list(AGENCY_IDS)
        async with http.get(first["agencies"]["water"] + WATER_PATH) as response:
            assert response.status == 200
        with pytest.raises(aiohttp.ClientConnectorError):
            await http.get(first["agencies"]["gas"] + f"/gas/subscriptions/{COMPLETE}")
        _, agencies = await call(http, "GET", first["admin"] + "/agencies")
        assert agencies["post"]["maintenance_window"] == "00:00-02:00"

        code, out, _ = await run_cli("set-fault", "--admin", first["admin"], "water", "flaky")
        assert code == 0 and json.loads(out)["water"]["fault"]["mode"] == "flaky"
        code, out, _ = await run_cli("clear-fault", "--admin", first["admin"], "gas")
        assert code == 0
        async with http.get(first["agencies"]["gas"] + f"/gas/subscriptions/{COMPLETE}") as r:
            assert r.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    stderr = (await process.stderr.read()).decode()
    assert "personas" in stderr and "Traceback" not in stderr


BAD_ARGUMENTS = [
    (["--fault", "water=melting"], "unknown mode"),
    (["--fault", "pharmacy=down"], "unknown agency"),
    (["--latency-ms", "fast"], "MIN-MAX"),
    (["--maintenance", "water=noon"], "00:00-02:00"),
    (["--port", "70000"], "--port"),
    (["set-fault", "water", "down"], "--admin"),
    (["set-fault", "--admin", "http://127.0.0.1:9", "water", "sideways"], "invalid choice"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ARGUMENTS)
def test_cli_rejects_bad_arguments(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main(args)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_reports_unreachable_admin(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["clear-fault", "--admin", "http://127.0.0.1:9", "water"]) == 1
    assert "cannot reach" in capsys.readouterr().err


async def test_cli_process_exits_cleanly_on_bad_arguments() -> None:
    code, _, err = await run_cli("--fault", "water=melting")
    assert code == 2 and "unknown mode" in err and "Traceback" not in err
