"""پلیس راهور (traffic police): vehicles and fines, paginated; the driving license.

Lists answer 200 with no items for anyone without vehicles or fines, including citizens the
police have never heard of; only the driving license has a 404.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, error, ok
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed, slashed_time
from sandbox.people import Person, person_for

AGENCY_ID = "traffic-police"
STYLE = "json"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 50
_NO_LICENSE = error(404, "message", "no license")


def _vehicles(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "plate": car.plate,
            "vin": car.vin,
            "model": car.model,
            "year": car.year,
            "color": car.color,
        }
        for car in person.vehicles
    ]


def _fines(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "fineId": fine.fine_id,
            "plate": fine.plate,
            "billId": fine.bill.bill_id,
            "paymentId": fine.bill.payment_id,
            "amount": fine.bill.amount,
            "occurredAt": slashed_time(fine.occurred_at),
            "description": fine.description,
            "location": fine.location,
        }
        for fine in person.fines
    ]


_LISTS: dict[str, Callable[[Person], list[dict[str, Any]]]] = {
    "vehicles": _vehicles,
    "fines": _fines,
}


@lru_cache(maxsize=CACHE_SIZE)
def _page(kind: str, code: str, page: int, size: int) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    items = _LISTS[kind](person_for(code))
    start = (page - 1) * size
    return ok(
        {
            "items": items[start : start + size],
            "page": page,
            "pageSize": size,
            "totalPages": math.ceil(len(items) / size),
            "totalItems": len(items),
        }
    )


def _int_param(request: web.Request, name: str, default: int) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _list_handler(kind: str) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        page = _int_param(request, "page", 1)
        size = _int_param(request, "pageSize", DEFAULT_PAGE_SIZE)
        if page is None or page < 1:
            return error(400, "error", "page must be an integer from 1").response()
        if size is None or not 1 <= size <= MAX_PAGE_SIZE:
            return error(400, "error", f"pageSize must be 1-{MAX_PAGE_SIZE}").response()
        return _page(kind, request.query.get("nationalCode", ""), page, size).response()

    return handler


@lru_cache(maxsize=CACHE_SIZE)
def _license(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    held = person_for(code).driving_license
    if held is None:
        return _NO_LICENSE
    return ok(
        {
            "licenseNumber": held.number,
            "category": held.category,
            "issuedAt": slashed(held.issued_at),
            "expiresAt": slashed(held.expires_at),
            "status": held.status,
        }
    )


async def driving_license(request: web.Request) -> web.Response:
    return _license(request.query.get("nationalCode", "")).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/rahvar/api/v1/vehicles", _list_handler("vehicles"))
    app.router.add_get("/rahvar/api/v1/fines", _list_handler("fines"))
    app.router.add_get("/rahvar/api/v1/driving-license", driving_license)
    return app
