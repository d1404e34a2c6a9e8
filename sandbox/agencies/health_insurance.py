"""بیمه سلامت (health insurance): coverage status; 404 only for citizens it has no file on."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, error, ok
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed
from sandbox.people import person_for

AGENCY_ID = "health-insurance"
STYLE = "json"
_NOT_FOUND = error(404, "error", "person not found")


@lru_cache(maxsize=CACHE_SIZE)
def _coverage(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    coverage = person_for(code).coverage
    if coverage is None:
        return _NOT_FOUND
    return ok(
        {
            "covered": coverage.covered,
            "plan": coverage.plan,
            "validUntil": None if coverage.valid_until is None else slashed(coverage.valid_until),
        }
    )


async def coverage(request: web.Request) -> web.Response:
    return _coverage(request.query.get("nationalCode", "")).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/salamat/coverage", coverage)
    return app
