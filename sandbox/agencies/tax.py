"""سازمان امور مالیاتی (tax): filing status and open debts; amounts may exceed 2^31."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, error, ok
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed
from sandbox.people import person_for

AGENCY_ID = "tax"
STYLE = "json"
_NOT_FOUND = error(404, "error", "taxpayer not found")


@lru_cache(maxsize=CACHE_SIZE)
def _debts(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    record = person_for(code).tax
    if record is None:
        return _NOT_FOUND
    return ok(
        {
            "taxpayerStatus": record.status,
            "filings": [{"year": year, "status": status} for year, status in record.filings],
            "debts": [
                {
                    "type": debt.kind,
                    "year": debt.year,
                    "billId": debt.bill.bill_id,
                    "paymentId": debt.bill.payment_id,
                    "amount": debt.bill.amount,
                    "dueDate": slashed(debt.bill.due_date),
                }
                for debt in record.debts
            ],
        }
    )


async def debts(request: web.Request) -> web.Response:
    return _debts(request.match_info["nc"]).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/tax/v1/taxpayers/{nc}/debts", debts)
    return app
