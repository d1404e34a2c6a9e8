"""The status page rendered from a book of fixed answers: what it says, in which language and
digits, that it escapes, that it renders once per window whatever the load, and its headers."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import re
from html.parser import HTMLParser

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from connectors.agencies.tax import TaxConnector
from connectors.registry import CONNECTOR_CLASSES
from observability.agency_health.model import (
    AgencySnapshot,
    AgencyState,
    Availability,
    AvailabilityBar,
    Failure,
    Incident,
    MaintenanceWindow,
    Window,
)
from observability.status_page import (
    AgencyName,
    StatusPage,
    StatusPageSettings,
    agency_names,
    status_routes,
)
from observability.status_page.words import ENGLISH, PERSIAN
from tests.support.fixed_health_book import FixedHealthBook, bars_of

# 2024-10-06 20:30 UTC: midnight starting 16 Mehr 1403 in Tehran (UTC+03:30)
NOW = 1728246600.0
NAMES = agency_names(CONNECTOR_CLASSES.values())
ASCII_DIGIT = re.compile(r"[0-9]")
PERSIAN_DIGIT = re.compile(r"[۰-۹]")


class PageText(HTMLParser):
    """What a reader sees of a page (no head, no style), and its elements' attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag in ("head", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.chunks.append(data.strip())

    @property
    def text(self) -> str:
        return " ".join(self.chunks)

    def having(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def _book(**changes: object) -> FixedHealthBook:
    snapshots = {
        n.agency: AgencySnapshot(n.agency, AgencyState.UP, NOW - 3 * 86400, 0.123, None)
        for n in NAMES
    }
    snapshots["tax"] = AgencySnapshot("tax", AgencyState.DOWN, NOW - 300, 0.5, None)
    snapshots["water"] = AgencySnapshot("water", AgencyState.DEGRADED, NOW - 120, 0.9, None)
    snapshots["gas"] = AgencySnapshot(
        "gas",
        AgencyState.MAINTENANCE,
        NOW,
        None,
        MaintenanceWindow("gas", NOW, NOW + 2 * 3600, note="call Ali on 0912 000 0000"),
        MaintenanceWindow("gas", NOW + 86400, NOW + 86400 + 5400),
    )
    bars = {}
    for n in NAMES:
        bars[n.agency, Window.DAY] = bars_of(Window.DAY, NOW, [1.0] * 20 + [0.95, None, 0.5, 0.0])
        bars[n.agency, Window.WEEK] = bars_of(Window.WEEK, NOW, [1.0] * 5 + [0.999, 0.8])
    bars["gas", Window.DAY] = [
        *bars_of(Window.DAY, NOW - 3600, [1.0] * 23),
        AvailabilityBar(NOW - 3600, 3600, None, maintenance=True),
    ]
    availability = {(n.agency, w): Availability(w, 0.99876, 0.9912) for n in NAMES for w in Window}
    incidents = [
        Incident(
            "i2", "tax", NOW - 300, None, AgencyState.DOWN,
            {Failure.REFUSED: 12, Failure.TIMEOUT: 2},
        ),
        Incident(
            "i1", "tax", NOW - 90_000, NOW - 90_000 + 3900, AgencyState.DEGRADED,
            {Failure.SERVER_ERROR: 3},
        ),
        Incident("i0", "tax", NOW - 30 * 86400, NOW - 29 * 86400, AgencyState.DOWN, {}),
        Incident("w1", "water", NOW - 120, None, AgencyState.DEGRADED, {Failure.MALFORMED: 4}),
    ]  # fmt: skip
    book = FixedHealthBook(list(snapshots.values()), bars, availability, incidents)
    for key, value in changes.items():
        setattr(book, key, value)
    return book


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _page(book: FixedHealthBook, clock: Clock | None = None, **settings: object) -> StatusPage:
    return StatusPage(
        book,
        NAMES,
        StatusPageSettings(**settings),  # type: ignore[arg-type]
        now=lambda: NOW,
        clock=clock or Clock(),
    )


async def _html(lang: str, book: FixedHealthBook | None = None) -> str:
    rendered = await _page(book or _book()).page(lang)  # type: ignore[arg-type]
    assert rendered is not None
    return rendered.body.decode()


def _row(html: str, agency: str) -> str:
    """The text of one agency's row."""
    start = html.rindex("<li", 0, html.index(f'id="agency-{agency}"'))
    return PageText(html[start : html.index("\n</li>\n", start)]).text


# -- what a reader sees --------------------------------------------------------------------------


async def test_persian_page_is_rtl_with_persian_names_words_and_digits_only() -> None:
    html = await _html("fa")
    page = PageText(html)
    assert page.having("html", lang="fa", dir="rtl")
    assert "وضعیت دستگاه‌های متصل به پنجره" in page.text
    rows = page.having("li", **{"class": "agency state-up"})
    assert len(page.having("li", **{"data-state": "down"})) == 1
    assert len([a for t, a in page.elements if t == "li" and "data-agency" in a]) == len(NAMES)
    assert len(rows) == len(NAMES) - 3
    for name in NAMES:
        assert name.fa in _row(html, name.agency)
    assert "قطع" in _row(html, "tax")
    assert "اختلال" in _row(html, "water")
    assert "در حال به‌روزرسانی" in _row(html, "gas")
    assert "برقرار" in _row(html, "post")
    assert "زمان پاسخ (صدک ۹۵): ۱۲۳ میلی‌ثانیه" in _row(html, "post")
    assert "زمان پاسخ (صدک ۹۵): ۹۰۰ میلی‌ثانیه" in _row(html, "water")
    assert not ASCII_DIGIT.search(page.text), ASCII_DIGIT.findall(page.text)
    assert "۹۹٫۸۷٪" in _row(html, "post")  # floored, Persian separator and percent sign
    start = html.index('<div class="summary')
    summary = PageText(html[start : html.index("</div>", start)]).text
    assert "✕ قطع: سازمان امور مالیاتی ! اختلال: آب و فاضلاب ⚙ در حال به‌روزرسانی: گاز" in summary
    assert page.having("a", href="#agency-tax")
    assert "۱۶ مهر ۱۴۰۳، ۰۰:۰۰ به وقت تهران" in page.text  # updated at, Jalali, Tehran
    switch = page.having("a", **{"class": "switch"})
    assert switch == [{"class": "switch", "href": "?lang=en", "hreflang": "en", "lang": "en",
                       "dir": "ltr"}]  # fmt: skip
    assert page.having("meta", **{"http-equiv": "refresh", "content": "30"})


async def test_all_up_says_so_in_one_line() -> None:
    book = _book()
    book.snapshots_ = [
        AgencySnapshot(s.agency, AgencyState.UP, NOW, None, None) for s in book.snapshots_
    ]
    page = PageText(await _html("en", book))
    assert page.having("p", **{"class": "summary state-up", "role": "status"})
    assert "✓ All agencies are up." in page.text
    assert not page.having("a", href="#agency-tax")


async def test_english_page_is_ltr_with_english_names_and_latin_digits() -> None:
    html = await _html("en")
    page = PageText(html)
    assert page.having("html", lang="en", dir="ltr")
    assert "Status of the agencies behind Panjereh" in page.text
    assert "Tax" in _row(html, "tax")
    assert "Civil Registration" in _row(html, "civil-registry")
    assert "Down" in _row(html, "tax")
    assert "response time" not in _row(html, "tax")  # one that does not answer has none
    assert "response time (p95): 123 ms" in _row(html, "post")
    assert "Maintenance" in _row(html, "gas")
    assert not PERSIAN_DIGIT.search(page.text)
    assert "99.87%" in _row(html, "post")
    assert "Updated 7 Oct 2024, 00:00 Tehran time" in page.text
    assert page.having("a", href="?lang=fa", hreflang="fa")


async def test_bars_one_an_hour_and_one_a_day_levelled_and_labelled() -> None:
    html = await _html("en")
    page = PageText(html)
    bar_lists = page.having("ol", **{"class": "bars"})
    assert len(bar_lists) == 2 * len(NAMES)
    tax = html[html.index('id="agency-tax"') :]
    day, week = tax.split('<ol class="bars"')[1:3]
    day_bars = re.findall(r'<li class="bar ([^"]+)" title="([^"]+)"', day)
    week_bars = re.findall(r'<li class="bar ([^"]+)" title="([^"]+)"', week.split("</ol>")[0])
    assert len(day_bars) == 24
    assert len(week_bars) == 7
    assert day_bars[0] == ("lvl-ok", "00:00 to 01:00: 100%")  # Tehran hours, oldest first
    assert [c for c, _ in day_bars[-4:]] == ["lvl-warn", "lvl-none", "lvl-bad", "lvl-bad"]
    assert day_bars[-3][1] == "21:00 to 22:00: no data"
    assert day_bars[-1][1] == "23:00 to 00:00: 0%"
    assert week_bars[-1] == ("lvl-bad", "6 Oct: 80%")
    assert week_bars[-2] == ("lvl-ok", "5 Oct: 99.9%")
    gas = html[html.index('id="agency-gas"') :]
    assert 'class="bar lvl-none maint" title="23:00 to 00:00: no data (planned maintenance)"' in (
        gas
    )


async def test_incidents_say_when_how_long_what_failed_and_drop_old_ones() -> None:
    fa, en = await _html("fa"), await _html("en")
    tax = _row(en, "tax")
    assert "Down since 6 Oct 2024, 23:55, ongoing (5 min so far)" in tax
    assert "What failed: connection refused (12×), timed out (2×)" in tax
    assert "Degraded from 5 Oct 2024, 23:00, for 1 h 5 min" in tax
    assert "What failed: server error (5xx) (3×)" in tax
    assert tax.count("Down since") + tax.count("from") == 2  # the 30-day-old one is not recent
    assert "No incident in the last 7 days." in _row(en, "post")
    tax_fa = _row(fa, "tax")
    assert "قطع از ۱۵ مهر ۱۴۰۳، ۲۳:۵۵، ادامه دارد (۵ دقیقه تا کنون)" in tax_fa
    assert "اتصال برقرار نشد (۱۲ بار)" in tax_fa
    assert "اختلال از ۱۴ مهر ۱۴۰۳، ۲۳:۰۰، به مدت ۱ ساعت و ۵ دقیقه" in tax_fa
    assert "اختلال از ۰۰:۰۰" not in tax_fa
    assert "پاسخ نامعتبر (۴ بار)" in _row(fa, "water")


async def test_maintenance_windows_now_and_next_in_tehran_time_jalali_in_persian() -> None:
    fa, en = _row(await _html("fa"), "gas"), _row(await _html("en"), "gas")
    assert "به‌روزرسانی برنامه‌ریزی‌شده: ۱۶ مهر ۱۴۰۳، ۰۰:۰۰ تا ۰۲:۰۰" in fa
    assert "به‌روزرسانی بعدی: ۱۷ مهر ۱۴۰۳، ۰۰:۰۰ تا ۰۱:۳۰" in fa
    assert "Planned maintenance: 7 Oct 2024, 00:00 to 02:00" in en
    assert "Next planned maintenance: 8 Oct 2024, 00:00 to 01:30" in en
    assert "Ali" not in fa + en  # an ops note is not for the public page
    assert "0912" not in fa + en


async def test_names_and_ids_from_the_book_are_escaped() -> None:
    hostile = '<script>alert("x")</script>'
    book = _book()
    book.snapshots_ = [*book.snapshots_, AgencySnapshot(hostile, AgencyState.UP, NOW, None, None)]
    names = [*NAMES[:2], AgencyName("post", f"پست {hostile}", f"Post {hostile}")]
    page = StatusPage(book, names, now=lambda: NOW, clock=Clock())
    for lang in ("fa", "en"):
        rendered = await page.page(lang)  # type: ignore[arg-type]
        assert rendered is not None
        html = rendered.body.decode()
        assert "<script" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
        assert PageText(html).text.count(hostile) == 2  # the name and the unknown agency's id


async def test_inline_stylesheet_is_the_one_the_policy_allows_and_nothing_else_is() -> None:
    html = await _html("fa")
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    from observability.status_page.render import CONTENT_SECURITY_POLICY

    assert f"style-src 'sha256-{digest}'" in CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "<script" not in html
    assert " style=" not in html  # an inline style attribute would be blocked
    assert "http://" not in html and "https://" not in html  # nothing fetched from elsewhere
    assert "url(" not in css


def test_agency_names_are_the_connectors_declared_names() -> None:
    names = agency_names(CONNECTOR_CLASSES.values())  # type: ignore[arg-type]
    assert [n.agency for n in names] == [c.agency_id for c in CONNECTOR_CLASSES.values()]
    tax = next(n for n in names if n.agency == "tax")
    assert tax.fa == TaxConnector.name_fa and tax.en == TaxConnector.name_en
    for name in names:
        assert re.search("[\u0600-\u06ff]", name.fa), name  # Persian script
        assert name.en.isascii() and name.en.strip(), name


@pytest.mark.parametrize(
    ("ratio", "fa", "en"),
    [
        (1.0, "۱۰۰٪", "100%"),
        (0.99996, "۹۹٫۹۹٪", "99.99%"),  # one failure is never shown as 100 %
        (0.995, "۹۹٫۵٪", "99.5%"),
        (0.9, "۹۰٪", "90%"),
        (0.0, "۰٪", "0%"),
        (None, "بدون داده", "no data"),
    ],
)
def test_ratios(ratio: float | None, fa: str, en: str) -> None:
    assert PERSIAN.ratio(ratio) == fa
    assert ENGLISH.ratio(ratio) == en


@pytest.mark.parametrize(
    ("seconds", "fa", "en"),
    [
        (30, "کمتر از یک دقیقه", "under a minute"),
        (61, "۱ دقیقه", "1 min"),
        (3 * 3600, "۳ ساعت", "3 h"),
        (3900, "۱ ساعت و ۵ دقیقه", "1 h 5 min"),
        (2 * 86400 + 3 * 3600 + 60, "۲ روز و ۳ ساعت", "2 d 3 h"),
    ],
)
def test_durations(seconds: float, fa: str, en: str) -> None:
    assert PERSIAN.duration(seconds) == fa
    assert ENGLISH.duration(seconds) == en


def test_a_window_across_midnight_names_both_days() -> None:
    start = NOW - 1800  # 23:30 on 15 Mehr, Tehran
    assert PERSIAN.span(start, NOW + 3600) == "۱۵ مهر ۱۴۰۳، ۲۳:۳۰ تا ۱۶ مهر ۱۴۰۳، ۰۱:۰۰"
    assert ENGLISH.span(start, NOW) == "6 Oct 2024, 23:30 to 00:00"  # ends at midnight


# -- cheap under load ----------------------------------------------------------------------------


async def test_renders_once_per_window_and_language_however_many_readers() -> None:
    book, clock = _book(), Clock()
    page = _page(book, clock, render_every_s=5.0)
    first = await asyncio.gather(*(page.page("fa") for _ in range(200)))
    assert page.renders == 1
    assert book.calls["snapshots"] == 1
    assert len({id(r) for r in first}) == 1
    await page.page("en")
    assert page.renders == 2  # one per language
    clock.t += 4.9
    await asyncio.gather(*(page.page("fa") for _ in range(50)))
    assert page.renders == 2
    clock.t += 0.2
    again = await page.page("fa")
    assert page.renders == 3
    assert again is not None and again is not first[0]
    assert again.etag == first[0].etag  # same board, same bytes, same ETag


async def test_concurrent_readers_share_one_render_in_flight() -> None:
    gate = asyncio.Event()
    book = _book(gate=gate)
    page = _page(book)
    readers = [asyncio.create_task(page.page("fa")) for _ in range(100)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert book.calls["snapshots"] == 1
    readers[0].cancel()  # a reader who leaves does not stop the render for the others
    gate.set()
    done = await asyncio.gather(*readers[1:])
    assert page.renders == 1
    assert all(r is done[0] for r in done)


async def test_a_book_that_fails_gives_the_last_page_and_is_not_hammered() -> None:
    book, clock = _book(), Clock()
    page = _page(book, clock, render_every_s=5.0)
    good = await page.page("fa")
    book.failing = ConnectionError("redis down")
    clock.t += 6
    assert await page.page("fa") is good  # the last page, which says when it was updated
    assert page.renders == 2
    await asyncio.gather(*(page.page("fa") for _ in range(20)))
    assert page.renders == 2  # the failure is not retried within the window
    assert await page.page("en") is None  # never rendered in English: nothing to fall back on
    book.failing = None
    clock.t += 6
    assert await page.page("en") is not None


# -- the route -----------------------------------------------------------------------------------

PAGE = web.AppKey("status_page", StatusPage)


async def _get(app: web.Application, path: str, **headers: str) -> web.Response:
    handler = status_routes(PAGE)[0].handler
    request = make_mocked_request("GET", path, headers=headers, app=app)
    return await handler(request)  # type: ignore[no-any-return]


def _app(page: StatusPage | None) -> web.Application:
    app = web.Application()
    if page is not None:
        app[PAGE] = page
    return app


async def test_route_headers_gzip_etag_and_304() -> None:
    app = _app(_page(_book()))
    plain = await _get(app, "/status?lang=en")
    assert plain.status == 200
    assert plain.content_type == "text/html" and plain.charset == "utf-8"
    assert plain.headers["Content-Language"] == "en"
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert plain.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert plain.headers["Cache-Control"] == "public, max-age=5"
    assert plain.headers["Vary"] == "Accept-Encoding"
    assert "Content-Encoding" not in plain.headers
    assert plain.body is not None and b'lang="en"' in bytes(plain.body)  # type: ignore[arg-type]

    zipped = await _get(app, "/status?lang=en", **{"Accept-Encoding": "br, gzip;q=0.8"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == plain.body  # type: ignore[arg-type]
    assert zipped.headers["ETag"] != plain.headers["ETag"]

    refused = await _get(app, "/status?lang=en", **{"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers

    again = await _get(app, "/status?lang=en", **{"If-None-Match": plain.headers["ETag"]})
    assert again.status == 304
    assert not again.body
    other = await _get(app, "/status", **{"If-None-Match": plain.headers["ETag"]})
    assert other.status == 200  # the Persian page is another representation
    assert other.headers["Content-Language"] == "fa"


@pytest.mark.parametrize("query", ["", "?lang=fa", "?lang=EN", "?lang=de", "?lang=<x>", "?x=1"])
async def test_anything_but_lang_en_is_the_persian_page(query: str) -> None:
    page = _page(_book())
    response = await _get(_app(page), f"/status{query}")
    assert response.headers["Content-Language"] == "fa"
    assert page.renders == 1


async def test_route_says_503_in_the_readers_language_when_nothing_can_be_shown() -> None:
    starting = await _get(_app(None), "/status?lang=en")
    assert starting.status == 503
    assert starting.headers["Cache-Control"] == "no-store"
    assert b"not available right now" in starting.body  # type: ignore[operator]
    failing = await _get(_app(_page(_book(failing=OSError("down")))), "/status")
    assert failing.status == 503
    assert "در دسترس نیست".encode() in failing.body  # type: ignore[operator]
