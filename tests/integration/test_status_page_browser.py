"""The status page in headless Chromium (Debian's `chromium`), over the real gateway and sandbox,
with one agency taken down: what a person sees on a phone and on a desktop.

Screenshots are kept under `status-page/` in the test artefacts directory (`tests/artifacts/`,
ignored by git; another one with `PANJEREH_TEST_ARTIFACTS`); the test prints where. Chromium is
installed with apt-get when missing and running as root; under CI=true a missing browser fails
the test, elsewhere it skips.
"""

from __future__ import annotations

import re

import pytest

from tests.support.chromium import (
    HeadlessChromium,
    Page,
    artifacts_dir,
    chromium_unavailable,
    find_chromium,
)
from tests.support.status_gateway import DOWN, NAMES, down_agency_gateway

pytestmark = pytest.mark.slow

ARTIFACTS = artifacts_dir("status-page")
# (name, width, height, phone)
VIEWPORTS = [
    ("phone-390", 390, 844, True),
    ("phone-360", 360, 740, True),
    ("desktop-1280", 1280, 900, False),
]

_SEEN = """(() => {
  const rows = [...document.querySelectorAll('li.agency')];
  const row = (id) => document.getElementById('agency-' + id);
  const badge = row(%r).querySelector('.state');
  const box = badge.getBoundingClientRect();
  return {
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    title: document.querySelector('h1').innerText,
    text: document.body.innerText,
    rows: rows.map((r) => r.dataset.agency),
    down: row(%r).innerText,
    badgeWeight: getComputedStyle(badge).fontWeight,
    badgeOnScreen: box.left >= 0 && box.right <= innerWidth && box.width > 0,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: innerWidth,
    switchHref: document.querySelector('a.switch').getAttribute('href'),
  };
})()"""


async def _seen(tab: Page) -> dict[str, object]:
    seen = await tab.evaluate(_SEEN % (DOWN, DOWN))
    assert isinstance(seen, dict)
    return seen


def _only_the_gateway(tab: Page, gateway_url: str) -> None:
    assert tab.requested_elsewhere(gateway_url) == []
    assert tab.logged == []  # a CSP violation (a blocked style) would be one


async def test_status_page_as_a_person_sees_it() -> None:
    binary = find_chromium()
    if binary is None:
        chromium_unavailable("no chromium on PATH and it could not be installed with apt-get")
    print(f"\nstatus page screenshots in {ARTIFACTS}")
    async with down_agency_gateway() as gw, HeadlessChromium(binary) as browser:
        for name, width, height, phone in VIEWPORTS:
            async with browser.page() as tab:
                await tab.open(f"{gw.url}/status", width=width, height=height, mobile=phone)
                seen = await _seen(tab)
                await tab.screenshot(ARTIFACTS / f"fa-{name}.png")
                await tab.screenshot(ARTIFACTS / f"fa-{name}-full.png", full_page=True)
                await tab.screenshot(
                    ARTIFACTS / f"fa-{name}-{DOWN}.png", selector=f"#agency-{DOWN}"
                )
                assert (seen["lang"], seen["dir"]) == ("fa", "rtl")
                assert seen["title"] == "وضعیت دستگاه‌های متصل به پنجره"
                assert seen["rows"] == [n.agency for n in NAMES]
                text = str(seen["text"])
                for agency in NAMES:
                    assert agency.fa in text
                down = str(seen["down"])
                assert "قطع" in down and "ادامه دارد" in down and "اتصال برقرار نشد" in down
                assert not re.search(r"[0-9]", text), "Latin digits on the Persian page"
                assert seen["badgeWeight"] == "700"  # the stylesheet applied
                assert seen["badgeOnScreen"]
                assert seen["scrollWidth"] <= seen["innerWidth"], f"{name} scrolls sideways"
                assert seen["switchHref"] == "?lang=en"
                _only_the_gateway(tab, gw.url)

        # The English switch is a plain link: follow it as a reader would, on a phone.
        async with browser.page() as tab:
            await tab.open(f"{gw.url}/status", width=390, height=844, mobile=True)
            loaded = tab.expect("Page.loadEventFired")
            await tab.evaluate("document.querySelector('a.switch').click()")
            await loaded
            seen = await _seen(tab)
            await tab.screenshot(ARTIFACTS / "en-phone-390.png")
            await tab.screenshot(ARTIFACTS / "en-phone-390-full.png", full_page=True)
            await tab.screenshot(ARTIFACTS / f"en-phone-390-{DOWN}.png", selector=f"#agency-{DOWN}")
            assert await tab.evaluate("location.search") == "?lang=en"
            assert (seen["lang"], seen["dir"]) == ("en", "ltr")
            assert seen["title"] == "Status of the agencies behind Panjereh"
            assert "Down" in str(seen["down"]) and "connection refused" in str(seen["down"])
            for agency in NAMES:
                assert agency.en in str(seen["text"])
            assert not re.search(r"[۰-۹]", str(seen["text"]))
            assert seen["scrollWidth"] <= seen["innerWidth"]
            _only_the_gateway(tab, gw.url)
    for shot in [*(f"fa-{n}.png" for n, *_ in VIEWPORTS), "en-phone-390.png"]:
        assert (ARTIFACTS / shot).read_bytes().startswith(b"\x89PNG"), shot
