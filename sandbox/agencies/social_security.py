"""تامین اجتماعی (social security): insurance record, contribution months and employers."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies.wire import CACHE_SIZE, INVALID_NATIONAL_CODE, Answer, error, ok
from sandbox.ids import is_valid_national_code
from sandbox.jalali import slashed
from sandbox.people import person_for

AGENCY_ID = "social-security"
STYLE = "json"
_NOT_INSURED = error(404, "error", "not insured")


@lru_cache(maxsize=CACHE_SIZE)
def _insured(code: str) -> Answer:
    if not is_valid_national_code(code):
        return INVALID_NATIONAL_CODE
    record = person_for(code).insurance
    if record is None:
        return _NOT_INSURED
    return ok(
        {
            "insuranceNo": record.insurance_no,
            "status": record.status,
            "contributionMonths": record.contribution_months,
            "employers": [
                {
                    "name": job.name,
                    "workshopCode": job.workshop_code,
                    "from": slashed(job.start),
                    "to": None if job.end is None else slashed(job.end),
                }
                for job in record.employers
            ],
        }
    )


async def insured(request: web.Request) -> web.Response:
    return _insured(request.match_info["nc"]).response()


def build_app(middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/tamin/api/insured/{nc}", insured)
    return app
