"""The drain on a small aiohttp app served on loopback, as server.py serves the gateway: when it
ends (quiet, grace, a second signal), what it counts, and aiohttp's shutdown cutting off what
outlives the grace.

Real: `Drain` installed in a real app, aiohttp's runner and its graceful shutdown, HTTP over
loopback. The handler stands for a request in flight for as long as the test holds it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from observability.drain import Drain


@dataclass
class Served:
    url: str
    drain: Drain
    runner: web.AppRunner
    release: asyncio.Event
    """Set it to let every request held in `/work` finish."""


@asynccontextmanager
async def served(
    *, grace_s: float, quiet_s: float, shutdown_timeout: float
) -> AsyncIterator[Served]:
    drain = Drain(grace_s=grace_s, quiet_s=quiet_s)
    release = asyncio.Event()

    async def work(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"done": True})

    async def readyz(request: web.Request) -> web.Response:
        return web.json_response({}, status=503 if drain.draining else 200)

    app = web.Application()
    drain.install(app)
    app.router.add_get("/work", work)
    app.router.add_get("/readyz", readyz)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield Served(f"http://127.0.0.1:{runner.addresses[0][1]}", drain, runner, release)
    finally:
        release.set()
        await runner.cleanup()


async def _get(client: aiohttp.ClientSession, url: str) -> int | str:
    try:
        async with client.get(url) as response:
            await response.read()
            return response.status
    except aiohttp.ClientError as exc:
        return type(exc).__name__


async def test_the_drain_waits_for_what_is_in_flight_and_for_quiet_then_ends() -> None:
    async with (
        aiohttp.ClientSession() as client,
        served(grace_s=10, quiet_s=0.3, shutdown_timeout=1) as s,
    ):
        first = asyncio.create_task(_get(client, f"{s.url}/work"))
        await asyncio.sleep(0.05)
        s.drain.begin()
        began = time.monotonic()
        ending = asyncio.create_task(s.drain.quiet())
        assert s.drain.in_flight_at_start == 1
        # Still served: a request that arrives now, and the probes (which count for nothing).
        second = asyncio.create_task(_get(client, f"{s.url}/work"))
        for _ in range(5):
            assert await _get(client, f"{s.url}/readyz") == 503
        await asyncio.sleep(0.4)
        assert not ending.done()  # two requests in flight
        s.release.set()
        assert await first == 200 and await second == 200
        released = time.monotonic()
        await asyncio.wait_for(ending, 5)
        ended = time.monotonic()
    # Nothing arrived in the last 0.4 s: quiet already, so it ends with the last request.
    assert ended - released < 0.25 and ended - began > 0.4
    assert (s.drain.served, s.drain.cut_off) == (2, 0)


async def test_probes_alone_do_not_keep_the_drain_going() -> None:
    async with (
        aiohttp.ClientSession() as client,
        served(grace_s=10, quiet_s=0.3, shutdown_timeout=1) as s,
    ):
        s.drain.begin()
        ending = asyncio.create_task(s.drain.quiet())
        began = time.monotonic()
        while not ending.done():
            assert await _get(client, f"{s.url}/readyz") == 503
            await asyncio.sleep(0.02)
        took = time.monotonic() - began
    assert 0.25 < took < 2, took
    assert s.drain.served == 0


async def test_at_the_end_of_the_grace_what_is_left_is_cut_off_by_aiohttp_s_shutdown() -> None:
    async with aiohttp.ClientSession() as client:
        async with served(grace_s=0.5, quiet_s=0.1, shutdown_timeout=0.3) as s:
            held = asyncio.create_task(_get(client, f"{s.url}/work"))
            await asyncio.sleep(0.05)
            s.drain.begin()
            began = time.monotonic()
            await asyncio.wait_for(s.drain.quiet(), 5)
            at_grace = time.monotonic() - began
            assert s.drain.in_flight == 1
            await s.runner.cleanup()  # as server.py does after `quiet`
            cleaned = time.monotonic() - began
        outcome = await held
    assert 0.45 < at_grace < 1.5, at_grace
    assert cleaned < at_grace + 1.5, cleaned  # the shutdown_timeout, not the request, decided
    assert outcome != 200
    assert (s.drain.served, s.drain.cut_off) == (0, 1)


async def test_a_second_signal_ends_the_wait_at_once() -> None:
    async with (
        aiohttp.ClientSession() as client,
        served(grace_s=30, quiet_s=5, shutdown_timeout=1) as s,
    ):
        held = asyncio.create_task(_get(client, f"{s.url}/work"))
        await asyncio.sleep(0.05)
        s.drain.begin()
        ending = asyncio.create_task(s.drain.quiet())
        await asyncio.sleep(0.05)
        assert not ending.done()
        s.drain.begin()
        await asyncio.wait_for(ending, 1)
        s.release.set()
        assert await held == 200
