"""مخابرات (telecom): fixed lines of a citizen; debt null when nothing is owed."""

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

AGENCY_ID = "telecom"
STYLE = "json"


def _debt(bill: Bill | None) -> dict[str, object] | None:
    if bill is None:
        return None
    return {
        "billId": bill.bill_id,
        "paymentId": bill.payment_id,
        "amount": bill.amount,
        "dueDate": slashed(bill.due_date),
    }


@lru_cache(maxsize=CACHE_SIZE)
def _phones(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    phones = [
        {"phoneNumber": phone.number, "debt": _debt(phone.debt)}
        for phone in person_for(code).phones
    ]
    return ok({"phones": phones})


async def phones(request: web.Request) -> web.Response:
    return _phones(request.query.get("nationalCode", "")).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/tci/api/phones", phones)
    return app
