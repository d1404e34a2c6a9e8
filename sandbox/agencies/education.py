"""آموزش و پرورش (education): school records; an empty list for anyone without one."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, ok
from sandbox.ids import is_valid_national_code
from sandbox.people import person_for

AGENCY_ID = "education"
STYLE = "json"


@lru_cache(maxsize=CACHE_SIZE)
def _diplomas(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    records = [
        {
            "level": record.level,
            "field": record.field,
            "school": record.school,
            "graduationYear": record.graduation_year,
            "gpa": record.gpa,
        }
        for record in person_for(code).education
    ]
    return ok({"records": records})


async def diplomas(request: web.Request) -> web.Response:
    return _diplomas(request.match_info["nc"]).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/medu/api/students/{nc}/diplomas", diplomas)
    return app
