"""شرکت ملی پست: address of a resident, every digit written in Persian."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, error, ok
from sandbox.ids import is_valid_national_code
from sandbox.people import person_for
from sandbox.spelling import persian_digits

AGENCY_ID = "post"
STYLE = "json"
_NOT_FOUND = error(404, "error", "resident_not_found")


def _fa(value: str | None) -> str | None:
    return None if value is None else persian_digits(value)


@lru_cache(maxsize=CACHE_SIZE)
def _address(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    address = person_for(code).address
    if address is None:
        return _NOT_FOUND
    return ok(
        {
            "postalCode": persian_digits(address.postal_code),
            "province": address.province,
            "city": address.city,
            "street": persian_digits(address.street),
            "plaque": persian_digits(address.plaque),
            "unit": _fa(address.unit),
            "floor": _fa(address.floor),
        }
    )


async def resident_address(request: web.Request) -> web.Response:
    return _address(request.match_info["nc"]).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/v2/residents/{nc}/address", resident_address)
    return app
