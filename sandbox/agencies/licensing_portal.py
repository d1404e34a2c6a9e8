"""درگاه ملی مجوزها (licensing portal): licenses, text stored with Arabic ي/ك."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, ok
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed
from sandbox.people import person_for
from sandbox.spelling import arabic_letters

AGENCY_ID = "licensing-portal"
STYLE = "json"


@lru_cache(maxsize=CACHE_SIZE)
def _licenses(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    person = person_for(code)
    holder = arabic_letters(person.full_name)
    licenses = [
        {
            "licenseNo": item.license_no,
            "title": arabic_letters(item.title),
            "issuer": arabic_letters(item.issuer),
            "issueDate": slashed(item.issue_date),
            "expiryDate": slashed(item.expiry_date),
            "status": item.status,
            "holderName": holder,
        }
        for item in person.licenses
    ]
    return ok({"licenses": licenses})


async def licenses(request: web.Request) -> web.Response:
    return _licenses(request.query.get("nationalCode", "")).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/api/v1/licenses", licenses)
    return app
