"""The land registry's XML pages and Jalali cursor, mapped to `Deed`s (no sockets): samples
written from docs/agencies.md, pages walked through a scripted transport, and every way a page
can be wrong rejected as AGENCY_BAD_RESPONSE inside its own attempt."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

import pytest
from pydantic import ValidationError

from cache.memory import MemoryCache
from cache.store import CacheStore
from connectors.agencies.land_registry import Cursor, LandRegistryConnector, page_reader
from connectors.pipeline.transport import TransportRequest, TransportResponse
from domain.errors import AgencyBadResponse, AgencyUnavailable
from domain.models import Deed, PropertyKind, PropertyShare
from observability.metrics import Metrics
from tests.support.scripted_transport import ScriptedTransport, Step

NC = "0012345679"

APARTMENT = {
    "DeedNo": "۱۳۹۹۱۲۳۴۵۶۷۸",
    "PropertyType": "APARTMENT",
    "Plaque": "۴۵۱۲/۸۷",
    "Address": "تهران، خیابان ولیعصر، کوچه ۱۲، پلاک ۳۴، واحد ۵",
    "ShareDang": "۲٫۵",
    "IssueDate": "۱۳۹۹/۰۵/۱۲",
}
LAND = {
    "DeedNo": "۱۴۰۱۰۰۰۰۰۰۰۱",
    "PropertyType": "LAND",
    "Plaque": "۱۲/۳",
    "Address": "کرج، بلوار ملت",
    "ShareDang": "۶",
    "IssueDate": "۱۴۰۱/۰۱/۰۵",
}
SHOP = {**LAND, "DeedNo": "۱۴۰۲۵۵۵۵۵۵۵۵", "PropertyType": "SHOP", "IssueDate": "۱۴۰۲/۱۱/۳۰"}


def _xml(*deeds: dict[str, str], cursor: str | None = "") -> bytes:
    """A DeedPage as the registry writes it; `cursor=None` leaves `<NextCursor>` out."""
    body = "".join(
        "<Deed>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in d.items()) + "</Deed>"
        for d in deeds
    )
    if cursor is not None:
        body += f"<NextCursor>{cursor}</NextCursor>" if cursor else "<NextCursor/>"
    return f'<?xml version="1.0" encoding="utf-8"?>\n<DeedPage>{body}</DeedPage>'.encode()


def _with(deed: dict[str, str], **changes: str | None) -> dict[str, str]:
    out = {**deed, **{k: v for k, v in changes.items() if v is not None}}
    for name in (k for k, v in changes.items() if v is None):
        del out[name]
    return out


def _connector(*pages: bytes | Step) -> tuple[LandRegistryConnector, ScriptedTransport]:
    """The real connector over a transport answering `pages` in order (no sockets): a body is a
    200 with it, anything else a step of the script."""
    steps = [TransportResponse(200, {}, p) if isinstance(p, bytes) else p for p in pages]
    transport = ScriptedTransport(steps)
    metrics = Metrics()
    connector = LandRegistryConnector(
        base_url="http://agency.invalid",
        transport=transport,
        cache=CacheStore(MemoryCache(), key_secret=b"k", metrics=metrics),
        metrics=metrics,
    )
    return connector, transport


def _asked(transport: ScriptedTransport) -> list[dict[str, str]]:
    return [dict(r.params or {}) for r in transport.sent]


def _outcomes(connector: LandRegistryConnector, outcome: str) -> float:
    value = connector.metrics.registry.get_sample_value(
        "panjereh_agency_requests_total", {"agency": "land-registry", "outcome": outcome}
    )
    return value or 0.0


# -- one page ------------------------------------------------------------------------------------


def test_a_deed_maps_persian_digits_jalali_date_and_share() -> None:
    page = page_reader(None)(_xml(APARTMENT))
    assert page.next is None
    assert page.deeds == [
        Deed(
            deed_number="139912345678",
            kind=PropertyKind.APARTMENT,
            unit="4512/87",
            address="تهران، خیابان ولیعصر، کوچه 12، پلاک 34، واحد 5",
            share=PropertyShare(numerator=5, denominator=12),  # 2.5 of 6 دانگ
            issued_at=dt.date(2020, 8, 2),
        )
    ]
    assert page.deeds[0].share.dang == 2.5
    assert page.deeds[0].issued_at.jalali == "1399/05/12"


@pytest.mark.parametrize(
    ("written", "share"),
    [("۶", (1, 1)), ("3", (1, 2)), ("۱٫۵", (1, 4)), ("0.5", (1, 12)), ("۴", (2, 3))],
)
def test_shares_in_dang_become_exact_fractions(written: str, share: tuple[int, int]) -> None:
    [deed] = page_reader(None)(_xml(_with(LAND, ShareDang=written))).deeds
    assert (deed.share.numerator, deed.share.denominator) == share


def test_an_empty_page_is_no_deeds() -> None:
    page = page_reader(None)(_xml())
    assert page.deeds == [] and page.next is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ShareDang", "۷"),  # more than the whole property
        ("ShareDang", "0"),
        ("ShareDang", "شش دانگ"),
        ("ShareDang", "-1"),
        ("IssueDate", "امروز"),
        ("IssueDate", "1399/13/01"),
        ("DeedNo", "۱۳۹۹۱۲۳"),  # not 12 digits
        ("DeedNo", "N/A"),
        ("Plaque", "4512"),  # no sub number
        ("PropertyType", "CASTLE"),
        ("DeedNo", None),
        ("IssueDate", None),
    ],
)
def test_a_malformed_deed_is_refused(field: str, value: str | None) -> None:
    with pytest.raises(ValidationError):
        page_reader(None)(_xml(_with(APARTMENT, **{field: value})))


@pytest.mark.parametrize(
    "body",
    [
        _xml(APARTMENT, cursor=None),  # no NextCursor: cut short
        _xml(APARTMENT)[:-20],  # truncated
        b"<Error><Code>X</Code></Error>",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><DeedPage>&a;</DeedPage>',
    ],
)
async def test_a_page_that_is_not_a_deed_page_is_a_bad_response(body: bytes) -> None:
    connector, _ = _connector(body)
    with pytest.raises(AgencyBadResponse):
        await connector.fetch_deeds(NC)
    assert _outcomes(connector, "bad_response") == 1  # never retried, never an ok


# -- the cursor ----------------------------------------------------------------------------------


def test_a_cursor_in_persian_digits_names_its_deed_and_is_kept_as_sent() -> None:
    cursor = Cursor.parse("۱۳۹۹/۰۵/۱۲-۱۳۹۹۱۲۳۴۵۶۷۸")
    assert cursor.text == "۱۳۹۹/۰۵/۱۲-۱۳۹۹۱۲۳۴۵۶۷۸"
    assert cursor.key == (dt.date(2020, 8, 2), "139912345678")


@pytest.mark.parametrize("text", ["1399/05/12", "1399-05-12-139912345678", "1399/05/12-1", "x"])
def test_a_cursor_not_in_the_documented_form_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Cursor.parse(text)


def test_the_next_cursor_must_name_the_last_deed() -> None:
    reader = page_reader(None)
    reader(_xml(APARTMENT, LAND, cursor="1401/01/05-140100000001"))  # right
    for wrong in ("1399/05/12-139912345678", "1401/01/06-140100000001"):
        with pytest.raises(ValueError, match="last deed"):
            reader(_xml(APARTMENT, LAND, cursor=wrong))
    with pytest.raises(ValueError, match="last deed"):
        reader(_xml(cursor="1401/01/05-140100000001"))  # a cursor on an empty page


def test_deeds_must_come_in_order_and_after_the_cursor() -> None:
    with pytest.raises(ValueError, match="order"):
        page_reader(None)(_xml(LAND, APARTMENT))
    after = Cursor.parse("1401/01/05-140100000001")
    with pytest.raises(ValueError, match="order"):
        page_reader(after)(_xml(LAND))  # the cursor's own deed again
    assert len(page_reader(after)(_xml(SHOP)).deeds) == 1


# -- pages through the pipeline ------------------------------------------------------------------


async def test_pages_are_walked_by_the_cursor_each_sent_back_as_received() -> None:
    connector, transport = _connector(
        _xml(APARTMENT, LAND, cursor="1401/01/05-140100000001"),
        _xml(SHOP),
    )
    deeds = (await connector.fetch_deeds(NC)).value
    assert [d.deed_number for d in deeds] == ["139912345678", "140100000001", "140255555555"]
    assert _asked(transport) == [
        {"nationalCode": NC},
        {"nationalCode": NC, "after": "1401/01/05-140100000001"},
    ]
    assert transport.sent[0].url == "http://agency.invalid/amlak/v1/deeds"
    assert _outcomes(connector, "ok") == 2


async def test_no_deeds_is_one_request_and_an_empty_list() -> None:
    connector, transport = _connector(_xml())
    assert (await connector.fetch_deeds(NC)).value == ()
    assert len(transport.sent) == 1


async def test_a_repeated_page_is_a_bad_response_not_an_endless_walk() -> None:
    looping = _xml(APARTMENT, cursor="1399/05/12-139912345678")
    connector, transport = _connector(looping, looping)
    with pytest.raises(AgencyBadResponse) as raised:
        await connector.fetch_deeds(NC)
    assert "order" in str(raised.value.__cause__)
    assert len(transport.sent) == 2
    assert _outcomes(connector, "ok") == 1 and _outcomes(connector, "bad_response") == 1


async def test_a_failing_later_page_fails_the_whole_list() -> None:
    """Half a list of deeds would read as "owns less than they do": no partial answer."""

    def server_error(request: TransportRequest) -> TransportResponse:
        assert request.params is not None and "after" in request.params
        return TransportResponse(500, {}, b"<Error><Code>INTERNAL</Code></Error>")

    connector, _ = _connector(_xml(APARTMENT, cursor="1399/05/12-139912345678"), server_error)
    with pytest.raises(AgencyUnavailable):
        await connector.fetch_deeds(NC)


def test_share_must_be_a_proper_fraction_in_lowest_terms() -> None:
    for numerator, denominator in ((7, 6), (2, 4), (0, 1)):
        with pytest.raises(ValidationError):
            PropertyShare(numerator=numerator, denominator=denominator)
