"""شاهکار: does this mobile belong to this national code? The verdict is in a 200 body."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, error, ok
from sandbox.ids import is_valid_national_code
from sandbox.people import person_for

AGENCY_ID = "shahkar"
STYLE = "json"
_MOBILE = re.compile(r"^09[0-9]{9}$")
_UNREADABLE = error(400, "error", "request must be JSON with nationalCode and mobile strings")
_BAD_MOBILE = error(400, "error", "invalid mobile")
_COMMENTS = {0: "match", 1: "mismatch", 2: "not registered"}


def result_code(code: str, mobile: str) -> int:
    """0 iff the citizen's own mobile; otherwise 1 or 2, fixed per mobile number."""
    if person_for(code).mobile == mobile:
        return 0
    return 2 if zlib.crc32(mobile.encode()) % 4 == 0 else 1


@lru_cache(maxsize=CACHE_SIZE)
def _match(code: str, mobile: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    if not _MOBILE.match(mobile):
        return _BAD_MOBILE
    verdict = result_code(code, mobile)
    return ok({"resultCode": verdict, "comment": _COMMENTS[verdict]})


async def match(request: web.Request) -> web.Response:
    try:
        payload = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return _UNREADABLE.response()
    if not isinstance(payload, dict):
        return _UNREADABLE.response()
    code, mobile = payload.get("nationalCode"), payload.get("mobile")
    if not isinstance(code, str) or not isinstance(mobile, str):
        return _UNREADABLE.response()
    return _match(code, mobile).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_post("/shahkar/v1/match", match)
    return app
