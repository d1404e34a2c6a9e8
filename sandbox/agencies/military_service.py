"""نظام وظیفه (military service): service status of men; women and unknowns get 404."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, error, ok
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed
from sandbox.people import person_for

AGENCY_ID = "military-service"
STYLE = "json"
_NOT_APPLICABLE = error(404, "error", "not applicable")


@lru_cache(maxsize=CACHE_SIZE)
def _status(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    record = person_for(code).military
    if record is None:
        return _NOT_APPLICABLE
    return ok(
        {
            "status": record.status,
            "cardNumber": record.card_number,
            "issuedAt": None if record.issued_at is None else slashed(record.issued_at),
        }
    )


async def status(request: web.Request) -> web.Response:
    return _status(request.match_info["nc"]).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/nezam/api/status/{nc}", status)
    return app
