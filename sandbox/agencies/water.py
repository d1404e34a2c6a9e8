"""آبفا (water): a customer's bills, paid and unpaid, newest first per subscription."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, ok
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed
from sandbox.people import person_for

AGENCY_ID = "water"
STYLE = "json"


@lru_cache(maxsize=CACHE_SIZE)
def _bills(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    person = person_for(code)
    bills = [
        {
            "subscriptionNo": subscription.subscription_no,
            "billId": bill.bill_id,
            "paymentId": bill.payment_id,
            "amount": bill.amount,
            "dueDate": slashed(bill.due_date),
            "period": bill.period,
            "paid": bill.paid,
        }
        for subscription in person.water
        for bill in subscription.bills
    ]
    return ok({"customerName": person.water_customer_name, "bills": bills})


async def customer_bills(request: web.Request) -> web.Response:
    return _bills(request.match_info["nc"]).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/api/customers/{nc}/bills", customer_bills)
    return app
