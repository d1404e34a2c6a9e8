"""قوه قضاییه / ثنا (judiciary): judicial notices of citizens registered in SANA."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, error, ok
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed
from sandbox.people import person_for

AGENCY_ID = "judiciary"
STYLE = "json"
_NO_SANA = error(404, "error", "not registered in sana")


@lru_cache(maxsize=CACHE_SIZE)
def _notices(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    notices = person_for(code).notices
    if notices is None:
        return _NO_SANA
    return ok(
        {
            "notices": [
                {
                    "noticeId": notice.notice_id,
                    "title": notice.title,
                    "court": notice.court,
                    "issuedAt": slashed(notice.issued_at),
                    "read": notice.read,
                }
                for notice in notices
            ]
        }
    )


async def notices(request: web.Request) -> web.Response:
    return _notices(request.query.get("nationalCode", "")).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/sana/api/notices", notices)
    return app
