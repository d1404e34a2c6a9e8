"""Land registry (سازمان ثبت اسناد و املاک): a citizen's property deeds, as XML pages walked by a
Jalali cursor (docs/agencies.md).

Each page ends with `<NextCursor>`: the last deed's `YYYY/MM/DD-<deed number>`, sent back as
`after` for the next page, empty on the last. Pages are read one after another (each needs the
cursor of the one before), each in its own attempt of the pipeline, and each is checked there:
deeds must come in the registry's order, strictly after the cursor asked for, and the next cursor
must be the last deed's, so a registry that repeats a page cannot keep the gateway walking.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Literal, NamedTuple

from defusedxml import ElementTree
from pydantic import AfterValidator, BeforeValidator

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import JalaliDate, PascalWire, PersianText
from domain.digits import to_ascii_digits
from domain.errors import AgencyBadResponse
from domain.jalali import parse_jalali_date
from domain.models import Deed, PropertyKind, PropertyShare

__all__ = ["LandRegistryConnector"]

_PATH = "/amlak/v1/deeds"
_MAX_PAGES = 50
_CURSOR = re.compile(r"(?P<date>[0-9]{4}/[0-9]{2}/[0-9]{2})-(?P<deed>[0-9]{12})")


def _dang(value: object) -> Fraction:
    """`۲٫۵` (Persian digits and decimal separator, or ASCII) دانگ as an exact fraction."""
    if not isinstance(value, str):
        raise ValueError("a share in dang must be a string")
    text = to_ascii_digits(value).strip().replace("٫", ".")
    try:
        dang = Fraction(Decimal(text))
    except (InvalidOperation, ValueError):
        raise ValueError("a share in dang must be a decimal number") from None
    if not 0 < dang <= 6:
        raise ValueError("a share in dang must be more than 0 and at most 6")
    return dang


def _shaped(pattern: str, what: str) -> AfterValidator:
    """Any digits made ASCII, then the whole value must match `pattern`."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        value = to_ascii_digits(value).strip()
        if compiled.fullmatch(value) is None:
            raise ValueError(f"{what} is not in its documented form")
        return value

    return AfterValidator(check)


Dang = Annotated[Fraction, BeforeValidator(_dang)]
DeedNumber = Annotated[str, _shaped(r"[0-9]{12}", "a deed number")]
Plaque = Annotated[str, _shaped(r"[0-9]{1,6}/[0-9]{1,6}", "a registration plaque")]


class DeedWire(PascalWire):
    """One `<Deed>`; every digit in it is a Persian digit on the wire."""

    deed_no: DeedNumber
    property_type: Literal["APARTMENT", "HOUSE", "LAND", "SHOP"]
    plaque: Plaque
    address: Annotated[PersianText, AfterValidator(to_ascii_digits)]
    share_dang: Dang
    issue_date: JalaliDate

    @property
    def key(self) -> Key:
        return Key(self.issue_date, self.deed_no)


class Key(NamedTuple):
    """A deed's place in the registry's order, which is what a cursor names."""

    issued: dt.date
    deed_no: str


class Cursor(NamedTuple):
    """A `<NextCursor>` as sent (to be sent back untouched) and the deed it points after."""

    text: str
    key: Key

    @classmethod
    def parse(cls, text: str) -> Cursor:
        match = _CURSOR.fullmatch(to_ascii_digits(text).strip())
        if match is None:
            raise ValueError("NextCursor is not YYYY/MM/DD-<12-digit deed number>")
        return cls(text, Key(parse_jalali_date(match["date"]), match["deed"]))


class DeedPageWire(PascalWire):
    """`<DeedPage>`: up to a page of `<Deed>`s and the `<NextCursor>` (empty on the last page)."""

    deeds: list[DeedWire]
    next_cursor: str | None

    @classmethod
    def from_xml(cls, body: bytes) -> DeedPageWire:
        """Parse with defusedxml (no entity expansion, no external DTDs)."""
        root = ElementTree.fromstring(body)
        if root.tag != "DeedPage":
            raise ValueError(f"expected a DeedPage document, got {root.tag[:40]!r}")
        cursor = root.find("NextCursor")
        if cursor is None:
            raise ValueError("a DeedPage must end with a NextCursor")
        deeds = [{field.tag: field.text for field in deed} for deed in root.findall("Deed")]
        return cls.model_validate({"Deeds": deeds, "NextCursor": (cursor.text or "").strip()})


class Page(NamedTuple):
    deeds: list[Deed]
    next: Cursor | None


def _to_domain(wire: DeedWire) -> Deed:
    return Deed(
        deed_number=wire.deed_no,
        kind=PropertyKind(wire.property_type),
        unit=wire.plaque,
        address=wire.address,
        share=PropertyShare.of(wire.share_dang / 6),
        issued_at=wire.issue_date,
    )


def page_reader(after: Cursor | None) -> Callable[[bytes], Page]:
    """The page asked for with `after`, checked and mapped inside its attempt."""

    def read(body: bytes) -> Page:
        page = DeedPageWire.from_xml(body)
        last = None if after is None else after.key
        for deed in page.deeds:
            if last is not None and deed.key <= last:
                raise ValueError("deeds out of the registry's order or not after the cursor")
            last = deed.key
        cursor = Cursor.parse(page.next_cursor) if page.next_cursor else None
        if cursor is not None and (not page.deeds or cursor.key != last):
            raise ValueError("NextCursor does not name the page's last deed")
        return Page([_to_domain(deed) for deed in page.deeds], cursor)

    return read


class LandRegistryConnector(AgencyConnector):
    """A deed changes hands rarely and is registered once: a day fresh, a month kept."""

    agency_id = "land-registry"
    name_fa = "سازمان ثبت اسناد و املاک"
    name_en = "Deeds and Properties Registration Organization"
    policy = AgencyPolicy(timeout=3.0, fresh_ttl=86_400, stale_ttl=30 * 86_400)

    @operation("deeds")
    async def fetch_deeds(self, national_code: str, *, deadline: Deadline) -> list[Deed]:
        """Every deed of the citizen, oldest first, page after page."""
        deeds: list[Deed] = []
        after: Cursor | None = None
        for _ in range(_MAX_PAGES):
            params = {"nationalCode": national_code}
            if after is not None:
                params["after"] = after.text
            page = await self.request(
                "GET", _PATH, params=params, parse=page_reader(after), deadline=deadline
            )
            deeds.extend(page.deeds)
            if page.next is None:
                return deeds
            after = page.next
        raise AgencyBadResponse(self.agency_id, f"more than {_MAX_PAGES} pages of deeds")
