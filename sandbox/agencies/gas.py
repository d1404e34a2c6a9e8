"""گاز (gas): subscriptions with Persian-transliterated keys; lastBill null when nothing is owed."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, ok
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed
from sandbox.people import person_for
from sandbox.records import Bill

AGENCY_ID = "gas"
STYLE = "json"


def _bill(bill: Bill | None) -> dict[str, object] | None:
    if bill is None:
        return None
    return {
        "shenaseGhabz": bill.bill_id,
        "shenasePardakht": bill.payment_id,
        "mablagh": bill.amount,
        "mohlat": slashed(bill.due_date),
    }


@lru_cache(maxsize=CACHE_SIZE)
def _subscriptions(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    items = [
        {"eshterak": item.eshterak, "lastBill": _bill(item.last_bill)}
        for item in person_for(code).gas
    ]
    return ok({"subscriptions": items})


async def subscriptions(request: web.Request) -> web.Response:
    return _subscriptions(request.match_info["nc"]).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/gas/subscriptions/{nc}", subscriptions)
    return app
