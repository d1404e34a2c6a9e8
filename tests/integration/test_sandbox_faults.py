"""Fault injection of the sandbox agencies, observed as a client sees it over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import statistics
import time
from collections.abc import AsyncIterator
from xml.etree.ElementTree import ParseError
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from defusedxml.ElementTree import fromstring
from pydantic import ValidationError

from sandbox import PERSONAS, FaultSpec, Sandbox, UnknownAgencyError
from sandbox.faults import AgencyFaults

COMPLETE = PERSONAS["complete"]
WATER_PATH = f"/api/customers/{COMPLETE}/bills"
MAINTENANCE_TEXT = "سامانه در حال به\u200cروزرسانی است"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=11) as sb:
        yield sb


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


PATHS = {"water": WATER_PATH, "gas": f"/gas/subscriptions/{COMPLETE}"}


async def status_of(http: aiohttp.ClientSession, sandbox: Sandbox, agency: str) -> int:
    async with http.get(sandbox.urls[agency] + PATHS[agency]) as response:
        await response.read()
        return response.status


async def water_status(http: aiohttp.ClientSession, sandbox: Sandbox) -> int:
    return await status_of(http, sandbox, "water")


async def test_down_refuses_connections_and_comes_back_on_the_same_port(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    url = sandbox.urls["water"]
    assert await water_status(http, sandbox) == 200  # leaves a pooled keep-alive connection
    await sandbox.set_fault("water", FaultSpec(mode="down"))
    for _ in range(2):
        with pytest.raises(aiohttp.ClientConnectorError):
            await water_status(http, sandbox)
    assert sandbox.calls("water") == 1
    assert sandbox.urls["water"] == url
    await sandbox.clear_fault("water")
    assert sandbox.urls["water"] == url
    assert await water_status(http, sandbox) == 200
    assert sandbox.calls("water") == 2
    assert await water_status(http, sandbox) == 200  # other agencies were never affected


async def test_hang_holds_until_the_client_gives_up_and_stop_is_prompt(
    http: aiohttp.ClientSession,
) -> None:
    sandbox = Sandbox()
    await sandbox.start()
    await sandbox.set_fault("water", FaultSpec(mode="hang"))
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(
            sandbox.urls["water"] + WATER_PATH, timeout=aiohttp.ClientTimeout(total=0.3)
        ):
            pass
    assert 0.25 < time.monotonic() - started < 1.5
    assert sandbox.calls("water") == 1
    pending = asyncio.ensure_future(water_status(http, sandbox))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await sandbox.stop()
    assert time.monotonic() - started < 1.5
    with pytest.raises(aiohttp.ClientError):
        await asyncio.wait_for(pending, 2)


async def test_hang_ends_with_504_and_clearing_releases_held_requests(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    await sandbox.set_fault("water", FaultSpec(mode="hang", hang_s=0.2))
    assert await water_status(http, sandbox) == 504
    await sandbox.set_fault("water", FaultSpec(mode="hang"))
    held = asyncio.ensure_future(water_status(http, sandbox))
    await asyncio.sleep(0.1)
    assert not held.done()
    await sandbox.clear_fault("water")
    assert await asyncio.wait_for(held, 2) == 200


async def test_slow_adds_latency_over_http(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    spec = FaultSpec(mode="slow", latency_p50_ms=100, latency_p99_ms=300)
    await sandbox.set_fault("water", spec)

    async def timed() -> float:
        started = time.monotonic()
        assert await water_status(http, sandbox) == 200
        return (time.monotonic() - started) * 1000

    latencies = await asyncio.gather(*(timed() for _ in range(30)))
    assert 60 < statistics.median(latencies) < 300  # loose: wall clock on a busy machine
    assert max(latencies) > 1.5 * min(latencies)  # a distribution, not a fixed delay


def test_slow_latency_distribution_is_fitted_to_p50_and_p99() -> None:
    state = AgencyFaults("water", seed=1)
    state.set(FaultSpec(mode="slow", latency_p50_ms=800, latency_p99_ms=3000))
    delays = sorted(state.slow_delay() for _ in range(20_000))
    assert 0.75 < delays[len(delays) // 2] < 0.85
    assert 2.7 < delays[int(len(delays) * 0.99)] < 3.3


async def test_flaky_fails_at_about_the_error_rate_reproducibly(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    async def run() -> list[int]:
        await sandbox.set_fault("water", FaultSpec(mode="flaky", error_rate=0.3))
        return [await water_status(http, sandbox) for _ in range(300)]

    statuses = await run()
    failures = [status for status in statuses if status != 200]
    assert set(failures) <= {500, 502, 503, 504} and len(set(failures)) == 4
    assert 0.2 < len(failures) / len(statuses) < 0.4
    assert await run() == statuses  # seeded: setting the fault again replays the same run
    assert sandbox.calls("water") == 600


async def test_rate_limited_answers_429_with_retry_after(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    await sandbox.set_fault("water", FaultSpec(mode="rate_limited", retry_after_s=7))
    async with http.get(sandbox.urls["water"] + WATER_PATH) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "7"
    await sandbox.set_fault("water", FaultSpec(mode="rate_limited", error_rate=0.5))
    statuses = {await water_status(http, sandbox) for _ in range(30)}
    assert statuses == {200, 429}


async def test_malformed_cycles_through_three_breakages(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    await sandbox.set_fault("water", "malformed")
    bodies = []
    for _ in range(3):
        async with http.get(sandbox.urls["water"] + WATER_PATH) as response:
            assert response.status == 200 and response.content_type == "application/json"
            bodies.append(await response.text())
    with pytest.raises(json.JSONDecodeError):
        json.loads(bodies[0])
    wrong_types = json.loads(bodies[1])
    assert all(isinstance(bill["amount"], dict) for bill in wrong_types["bills"])
    missing = json.loads(bodies[2])
    assert all("amount" not in bill for bill in missing["bills"])


async def test_malformed_soap(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    await sandbox.set_fault("civil-registry", FaultSpec(mode="malformed"))
    envelope = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sab="urn:sabtahval:inquiry"><soap:Body><sab:GetPersonInfo><sab:NationalCode>'
        f"{COMPLETE}</sab:NationalCode></sab:GetPersonInfo></soap:Body></soap:Envelope>"
    )
    headers = {"SOAPAction": '"urn:sabtahval:inquiry/GetPersonInfo"'}
    url = sandbox.urls["civil-registry"] + "/services/IdentityInquiry"
    bodies = []
    for _ in range(3):
        async with http.post(url, data=envelope, headers=headers) as response:
            assert response.status == 200 and response.content_type == "text/xml"
            bodies.append(await response.read())
    with pytest.raises(ParseError):
        fromstring(bodies[0])
    sab = "{urn:sabtahval:inquiry}"
    assert fromstring(bodies[1]).findtext(f".//{sab}ResultCode") == "OK"
    assert fromstring(bodies[2]).find(f".//{sab}ResultCode") is None


async def test_maintenance_page(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    await sandbox.set_fault("water", FaultSpec(mode="maintenance", retry_after_s=120))
    async with http.get(sandbox.urls["water"] + WATER_PATH) as response:
        assert response.status == 503
        assert response.content_type == "text/html"
        assert response.headers["Retry-After"] == "120"
        assert MAINTENANCE_TEXT in await response.text()


async def test_nightly_maintenance_window(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    now = dt.datetime.now(ZoneInfo("Asia/Tehran"))

    def window(start: dt.datetime, minutes: int) -> str:
        end = start + dt.timedelta(minutes=minutes)
        return f"{start:%H:%M}-{end:%H:%M}"

    sandbox.set_maintenance_window("water", window(now - dt.timedelta(minutes=1), 5))
    async with http.get(sandbox.urls["water"] + WATER_PATH) as response:
        assert response.status == 503
        assert 0 < int(response.headers["Retry-After"]) <= 5 * 60
        assert MAINTENANCE_TEXT in await response.text()
    assert await status_of(http, sandbox, "gas") == 200
    sandbox.set_maintenance_window("water", window(now + dt.timedelta(hours=2), 60))
    assert await water_status(http, sandbox) == 200
    with pytest.raises(ValueError, match="00:00-02:00"):
        sandbox.set_maintenance_window("water", "midnight")


async def test_base_latency_and_call_counting(http: aiohttp.ClientSession) -> None:
    async with Sandbox(latency_ms=(40, 50)) as sandbox:
        started = time.monotonic()
        assert await water_status(http, sandbox) == 200
        assert time.monotonic() - started >= 0.04
        await asyncio.gather(*(water_status(http, sandbox) for _ in range(9)))
        assert sandbox.calls("water") == 10 and sandbox.calls("gas") == 0
        sandbox.reset_calls()
        assert sandbox.calls("water") == 0


async def test_reset_restores_everything(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    await sandbox.set_fault("water", FaultSpec(mode="down"))
    await sandbox.set_fault("gas", FaultSpec(mode="rate_limited"))
    sandbox.set_maintenance_window("post", "00:00-23:59")
    assert await status_of(http, sandbox, "gas") == 429
    await sandbox.reset()
    assert sandbox.calls("gas") == 0
    assert all(state["fault"]["mode"] == "up" for state in sandbox.describe().values())
    assert sandbox.maintenance_window("post") is None
    assert await water_status(http, sandbox) == 200


async def test_fault_spec_validation_and_unknown_agency(sandbox: Sandbox) -> None:
    assert FaultSpec(mode="rate_limited").error_rate == 1.0
    assert FaultSpec(mode="flaky").error_rate == 0.5
    with pytest.raises(ValidationError):
        FaultSpec(mode="slow", latency_p50_ms=500, latency_p99_ms=100)
    with pytest.raises(ValidationError):
        FaultSpec(mode="exploding")
    with pytest.raises(ValidationError):
        FaultSpec(mode="flaky", error_rte=0.3)
    with pytest.raises(UnknownAgencyError):
        await sandbox.set_fault("ministry-of-magic", FaultSpec(mode="down"))
    with pytest.raises(KeyError):
        sandbox.calls("ministry-of-magic")
