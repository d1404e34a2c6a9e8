"""سازمان ثبت اسناد و املاک (land registry): a citizen's property deeds, as XML pages with a
Jalali cursor.

Deeds come oldest first by (issue date, deed number); a page ends with `<NextCursor>`, the last
deed's `YYYY/MM/DD-<deed number>`, which the client sends back as `after` for the next page (empty
on the last page). Values use Persian digits, as the registry's printed deeds do; cursors are
ASCII, like every request parameter. A citizen the registry has never heard of owns nothing: an
empty page, never a 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from xml.sax.saxutils import escape

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, Answer
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed
from sandbox.people import person_for
from sandbox.records import Deed
from sandbox.spelling import persian_digits

AGENCY_ID = "land-registry"
STYLE = "xml"
PATH = "/amlak/v1/deeds"
DEFAULT_PAGE_SIZE = 5
MAX_PAGE_SIZE = 20
_XML = "application/xml"
_CURSOR = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9]{2}-[0-9]{12}")
_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'


def _error(status: int, code: str, message: str) -> Answer:
    body = f"{_DECLARATION}<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
    return Answer(status, body.encode("utf-8"), _XML)


_INVALID_NATIONAL_CODE = _error(400, "INVALID_NATIONAL_CODE", "invalid national code")
_INVALID_CURSOR = _error(400, "INVALID_CURSOR", "after must be YYYY/MM/DD-<12-digit deed number>")
_INVALID_PAGE_SIZE = _error(400, "INVALID_PAGE_SIZE", f"pageSize must be 1-{MAX_PAGE_SIZE}")


def cursor_of(deed: Deed) -> str:
    """The deed's place in the page order, as a cursor: `1399/05/12-139912345678`."""
    return f"{slashed(deed.issued_at)}-{deed.deed_no}"


def _dang(deed: Deed) -> str:
    """`۶`, `۲٫۵`: the share in دانگ with Persian digits and decimal separator."""
    text = format(Decimal(deed.dang.numerator) / Decimal(deed.dang.denominator), "f")
    return persian_digits(text).replace(".", "٫")


def _deed_xml(deed: Deed) -> str:
    fields = (
        ("DeedNo", persian_digits(deed.deed_no)),
        ("PropertyType", deed.kind),
        ("Plaque", persian_digits(deed.plaque)),
        ("Address", persian_digits(deed.address)),
        ("ShareDang", _dang(deed)),
        ("IssueDate", persian_digits(slashed(deed.issued_at))),
    )
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields)
    return f"<Deed>{inner}</Deed>"


@lru_cache(maxsize=CACHE_SIZE)
def _page(code: str, after: str, size: int) -> Answer:
    if not is_valid_national_code(code):
        return _INVALID_NATIONAL_CODE
    deeds = [deed for deed in person_for(code).deeds if cursor_of(deed) > after]
    page, more = deeds[:size], len(deeds) > size
    next_cursor = f"<NextCursor>{cursor_of(page[-1])}</NextCursor>" if more else "<NextCursor/>"
    body = f"{_DECLARATION}<DeedPage>{''.join(map(_deed_xml, page))}{next_cursor}</DeedPage>"
    return Answer(200, body.encode("utf-8"), _XML)


async def deeds(request: web.Request) -> web.Response:
    after = request.query.get("after", "")
    if after and not _CURSOR.fullmatch(after):
        return _INVALID_CURSOR.response()
    raw_size = request.query.get("pageSize", str(DEFAULT_PAGE_SIZE))
    if not (raw_size.isascii() and raw_size.isdigit() and 1 <= int(raw_size) <= MAX_PAGE_SIZE):
        return _INVALID_PAGE_SIZE.response()
    return _page(request.query.get("nationalCode", ""), after, int(raw_size)).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get(PATH, deeds)
    return app
