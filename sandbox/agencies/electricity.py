"""برق (electricity): unpaid bills, snake_case keys and amounts as strings."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, ok
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed
from sandbox.people import person_for

AGENCY_ID = "electricity"
STYLE = "json"


@lru_cache(maxsize=CACHE_SIZE)
def _bills(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    items = [
        {
            "bill_identifier": item.bill.bill_id,
            "payment_identifier": item.bill.payment_id,
            "amount_rial": str(item.bill.amount),
            "deadline": slashed(item.bill.due_date),
            "consumption_kwh": item.consumption_kwh,
            "meter_no": item.meter_no,
        }
        for item in person_for(code).electricity
    ]
    return ok({"status": "OK", "data": {"items": items}})


async def bills(request: web.Request) -> web.Response:
    return _bills(request.query.get("national_id", "")).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/bargh/v1/bills", bills)
    return app
