"""A real gateway whose status page shows one agency DOWN: the sandbox's tax refuses
connections, and the page is read until it says so (the book follows the probes' ticks)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from connectors.registry import CONNECTOR_CLASSES
from observability.status_page import agency_names
from tests.support.gateway import RunningGateway, running_gateway

__all__ = ["DOWN", "NAMES", "STATUS_SETTINGS", "down_agency_gateway", "page_until", "row_of"]

NAMES = agency_names(CONNECTOR_CLASSES.values())
INTERVAL_S = 0.25
STATUS_SETTINGS = {
    "probes": {"interval_s": INTERVAL_S, "timeout_s": INTERVAL_S / 2},
    "status_page": {"render_every_s": 0.2, "refresh_s": 30},
}
DOWN = "tax"


async def page_until(gw: RunningGateway, lang: str, pattern: str, within_s: float = 15.0) -> str:
    """The page in `lang` once it matches `pattern`; fails the test if it does not in time."""
    started = time.monotonic()
    while True:
        async with gw.client.get(f"{gw.url}/status?lang={lang}") as response:
            html = await response.text() if response.status == 200 else ""
        if re.search(pattern, html):
            return html
        if time.monotonic() - started > within_s:
            pytest.fail(f"/status?lang={lang} did not show {pattern!r} within {within_s} s")
        await asyncio.sleep(0.1)


def row_of(html: str, agency: str) -> str:
    """One agency's row of the page's HTML."""
    start = html.rindex("<li", 0, html.index(f'id="agency-{agency}"'))
    return html[start : html.index("\n</li>\n", start)]


@asynccontextmanager
async def down_agency_gateway() -> AsyncIterator[RunningGateway]:
    async with running_gateway(**STATUS_SETTINGS) as gw:
        await page_until(gw, "en", r'data-agency="post" data-state="up"')
        await gw.sandbox.set_fault(DOWN, "down")
        await page_until(gw, "en", rf'data-agency="{DOWN}" data-state="down"')
        yield gw
