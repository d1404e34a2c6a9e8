"""`/status` over real HTTP, in front of the real sandbox: an agency taken down shows as DOWN
with an incident, the page is public and cacheable, and its polls are not INFO lines."""

from __future__ import annotations

import asyncio
import gzip
import logging
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from server import create_app
from tests.redis_server import delete_namespace, redis_client, unique_namespace
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.redis_topologies import every_topology
from tests.support.status_gateway import (
    DOWN,
    NAMES,
    STATUS_SETTINGS,
    down_agency_gateway,
    page_until,
    row_of,
)

redis_url = every_topology()  # the fleet's status page, on every topology


@pytest.fixture
async def gateway_with_tax_down() -> AsyncIterator[RunningGateway]:
    async with down_agency_gateway() as gw:
        yield gw


async def test_a_downed_agency_shows_down_with_its_incident_in_both_languages(
    gateway_with_tax_down: RunningGateway,
) -> None:
    gw = gateway_with_tax_down
    en = await page_until(gw, "en", r"connection refused")
    for name in NAMES:
        assert f'data-agency="{name.agency}"' in en
        assert name.en in row_of(en, name.agency)
    tax = row_of(en, DOWN)
    assert "✕</span> Down</span>" in tax
    assert re.search(r"Down since [^<]+, ongoing \(", tax)
    assert "What failed: connection refused" in tax
    assert "✓</span> Up</span>" in row_of(en, "post")

    fa = await page_until(gw, "fa", "اتصال برقرار نشد")
    assert '<html lang="fa" dir="rtl">' in fa
    assert "وضعیت دستگاه‌های متصل به پنجره" in fa
    tax_fa = row_of(fa, DOWN)
    assert "✕</span> قطع</span>" in tax_fa
    assert "ادامه دارد" in tax_fa
    for name in NAMES:
        assert name.fa in row_of(fa, name.agency)


async def test_the_page_is_public_gzipped_cacheable_and_locked_down(
    gateway_with_tax_down: RunningGateway,
) -> None:
    gw = gateway_with_tax_down
    # No token, no cookie: a stranger's plain GET.
    async with (
        aiohttp.ClientSession(auto_decompress=False) as stranger,
        stranger.get(f"{gw.url}/status", headers={"Accept-Encoding": "gzip"}) as response,
    ):
        assert response.status == 200
        body = gzip.decompress(await response.read()).decode()
        headers = response.headers
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-")
    assert "unsafe" not in csp
    assert headers["Cache-Control"].startswith("public, max-age=")
    assert 'lang="fa"' in body
    assert "Set-Cookie" not in headers

    async with gw.client.get(
        f"{gw.url}/status", headers={"If-None-Match": headers["ETag"]}
    ) as again:
        # the page may have been re-rendered since; unchanged bytes give 304, changed ones 200
        assert again.status in (200, 304)
        if again.status == 304:
            assert await again.read() == b""
    async with gw.client.head(f"{gw.url}/status?lang=en") as head:
        assert head.status == 200
        assert head.headers["Content-Language"] == "en"


async def test_status_polls_are_debug_lines(
    gateway_with_tax_down: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    gw = gateway_with_tax_down
    with caplog.at_level(logging.DEBUG, logger="panjereh.http"):
        async with gw.client.get(f"{gw.url}/status") as response:
            assert response.status == 200
    lines = [r for r in caplog.records if getattr(r, "path", None) == "/status"]
    assert lines and all(r.levelno == logging.DEBUG for r in lines)


async def test_renders_stay_few_under_many_readers() -> None:
    async with running_gateway(
        probes={"enabled": False}, status_page={"render_every_s": 60.0}
    ) as gw:
        from server import STATUS_PAGE

        async def read() -> int:
            async with gw.client.get(f"{gw.url}/status") as response:
                await response.read()
                return response.status

        statuses = await asyncio.gather(*(read() for _ in range(200)))
        assert statuses == [200] * 200
        assert gw.app[STATUS_PAGE].renders == 1


@pytest.mark.redis
async def test_every_instance_on_one_redis_shows_the_same_outage(redis_url: str) -> None:
    """The page reads the fleet's book: an instance that never probed tax shows it DOWN, with
    the same incident, as the one that did."""
    namespace = unique_namespace().rstrip(":")
    async with redis_client(redis_url) as client:
        try:
            async with running_gateway(
                **STATUS_SETTINGS,
                redis_url=redis_url,
                cache_namespace=namespace,
                cache_key_secret="shared-by-both-instances",
                cache_timeout_s=2,
            ) as gw:
                second = create_app(gw.settings.model_copy())
                runner = web.AppRunner(second, access_log=None)
                await runner.setup()
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                other = RunningGateway(
                    f"http://127.0.0.1:{runner.addresses[0][1]}", second, gw.sandbox, gw.settings,
                    gw.client,
                )  # fmt: skip
                try:
                    await gw.sandbox.set_fault(DOWN, "down")
                    pages = [
                        await page_until(each, "en", r"Down since [^<]+ongoing")
                        for each in (gw, other)
                    ]
                    incidents = [re.search(r"Down since (.+?), ongoing", p) for p in pages]
                    assert incidents[0] and incidents[1]
                    assert incidents[0].group() == incidents[1].group()
                finally:
                    await runner.cleanup()
        finally:
            await delete_namespace(client, namespace)
