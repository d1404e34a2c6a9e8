"""The sandbox land registry answers as docs/agencies.md says, over real HTTP on loopback: XML
pages of deeds walked by a Jalali cursor, XML errors, and its faults in its own format.

The expected deeds are read from `person_for` (the oracle) and written out here from the
contract, not with the sandbox's own renderer.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal
from fractions import Fraction
from xml.etree.ElementTree import Element, ParseError

import aiohttp
import pytest
from defusedxml.ElementTree import fromstring

from sandbox import AGENCY_IDS, PERSONAS, FaultSpec, Sandbox, person_for
from sandbox.records import Deed

COMPLETE, SPARSE, UNKNOWN = PERSONAS["complete"], PERSONAS["sparse"], PERSONAS["unknown"]
PATH = "/amlak/v1/deeds"
PERSIAN = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
CURSOR = re.compile(r"1[34]\d\d/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])-\d{12}")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=5) as sb:
        yield sb


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _get(
    http: aiohttp.ClientSession, sandbox: Sandbox, **params: str
) -> tuple[int, str, bytes]:
    async with http.get(sandbox.urls["land-registry"] + PATH, params=params) as response:
        return response.status, response.content_type, await response.read()


def _as_oracle(element: Element) -> tuple[str, str, str, str, Fraction, str]:
    """A `<Deed>` read back into the oracle's terms (ASCII digits, دانگ as a fraction)."""

    def text(name: str) -> str:
        value = element.findtext(name)
        assert value is not None, name
        return value

    for name in ("DeedNo", "Plaque", "IssueDate"):
        assert not text(name).isascii(), f"{name} is written in Persian digits"
    dang = Fraction(Decimal(text("ShareDang").translate(PERSIAN).replace("٫", ".")))
    return (
        text("DeedNo").translate(PERSIAN),
        text("PropertyType"),
        text("Plaque").translate(PERSIAN),
        text("Address").translate(PERSIAN),
        dang,
        text("IssueDate").translate(PERSIAN),
    )


def _expected(deed: Deed) -> tuple[str, str, str, str, Fraction, str]:
    day = deed.issued_at
    issued = f"{day.year:04d}/{day.month:02d}/{day.day:02d}"
    return (deed.deed_no, deed.kind, deed.plaque, deed.address, deed.dang, issued)


async def test_pages_walked_by_the_jalali_cursor(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    status, content_type, body = await _get(http, sandbox, nationalCode=COMPLETE)
    assert (status, content_type) == (200, "application/xml")
    first = fromstring(body)
    assert first.tag == "DeedPage" and len(first.findall("Deed")) == 5
    cursor = first.findtext("NextCursor")
    assert cursor and CURSOR.fullmatch(cursor)
    last = _as_oracle(first.findall("Deed")[-1])
    assert cursor == f"{last[5]}-{last[0]}"  # the last deed's issue date and number

    status, _, body = await _get(http, sandbox, nationalCode=COMPLETE, after=cursor)
    second = fromstring(body)
    assert status == 200 and len(second.findall("Deed")) == 2
    assert second.find("NextCursor") is not None and not second.findtext("NextCursor")

    deeds = [_as_oracle(d) for page in (first, second) for d in page.findall("Deed")]
    person = person_for(COMPLETE)
    assert deeds == [_expected(d) for d in person.deeds]
    assert [(d[5], d[0]) for d in deeds] == sorted((d[5], d[0]) for d in deeds)

    status, _, body = await _get(http, sandbox, nationalCode=COMPLETE, pageSize="20")
    assert status == 200 and len(fromstring(body).findall("Deed")) == 7
    assert not fromstring(body).findtext("NextCursor")


async def test_owners_of_nothing_get_an_empty_page(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    for code in (SPARSE, UNKNOWN):
        status, _, body = await _get(http, sandbox, nationalCode=code)
        page = fromstring(body)
        assert status == 200 and page.findall("Deed") == []
        assert page.find("NextCursor") is not None and not page.findtext("NextCursor")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"nationalCode": "0012345678"}, "INVALID_NATIONAL_CODE"),
        ({"nationalCode": "۰۰۱۲۳۴۵۶۷۹"}, "INVALID_NATIONAL_CODE"),
        ({"nationalCode": COMPLETE, "after": "1399/05/12"}, "INVALID_CURSOR"),
        ({"nationalCode": COMPLETE, "after": "۱۳۹۹/۰۵/۱۲-۱۳۹۹۰۱۲۳۴۵۶۷"}, "INVALID_CURSOR"),
        ({"nationalCode": COMPLETE, "pageSize": "0"}, "INVALID_PAGE_SIZE"),
        ({"nationalCode": COMPLETE, "pageSize": "21"}, "INVALID_PAGE_SIZE"),
    ],
)
async def test_bad_requests_are_400_xml_errors(
    sandbox: Sandbox, http: aiohttp.ClientSession, params: dict[str, str], code: str
) -> None:
    status, content_type, body = await _get(http, sandbox, **params)
    assert (status, content_type) == (400, "application/xml")
    error = fromstring(body)
    assert error.tag == "Error" and error.findtext("Code") == code and error.findtext("Message")


async def test_errors_and_refusals_speak_xml(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    assert "land-registry" in AGENCY_IDS and len(AGENCY_IDS) == 16
    await sandbox.set_fault("land-registry", FaultSpec(mode="rate_limited", retry_after_s=7))
    async with http.get(sandbox.urls["land-registry"] + PATH) as response:
        assert response.status == 429 and response.headers["Retry-After"] == "7"
        assert fromstring(await response.read()).findtext("Code") == "TOO_MANY_REQUESTS"
    await sandbox.set_fault("land-registry", FaultSpec(mode="flaky", error_rate=1.0))
    statuses: dict[int, str] = {}
    for _ in range(30):
        async with http.get(sandbox.urls["land-registry"] + PATH) as response:
            statuses[response.status] = response.content_type
    assert set(statuses) == {500, 502, 503, 504}
    assert statuses[500] == "application/xml"  # the application's own error; the rest: proxy


async def test_malformed_pages_cycle_through_three_breakages(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    await sandbox.set_fault("land-registry", FaultSpec(mode="malformed"))
    bodies = []
    for _ in range(3):
        status, content_type, body = await _get(http, sandbox, nationalCode=COMPLETE)
        assert (status, content_type) == (200, "application/xml")
        bodies.append(body)
    with pytest.raises(ParseError):
        fromstring(bodies[0])
    retyped = fromstring(bodies[1]).findall("Deed")
    assert retyped and all(d.findtext("ShareDang") == "شش دانگ" for d in retyped)
    assert all(d.findtext("IssueDate") == "امروز" for d in retyped)
    dropped = fromstring(bodies[2]).findall("Deed")
    assert dropped and all(d.find("DeedNo") is None for d in dropped)
