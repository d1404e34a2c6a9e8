"""Admin HTTP app: inspect agencies, set and clear faults, list citizens to try.

What a tester, the CLI or a chaos script uses to drive a running sandbox from outside.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from sandbox.agencies import AGENCY_IDS
from sandbox.faults import FaultSpec
from sandbox.people import PERSONAS, person_for, sample_national_codes

if TYPE_CHECKING:
    from sandbox.runner import Sandbox

SANDBOX: web.AppKey[Sandbox] = web.AppKey("sandbox")
MAX_CITIZENS = 10_000


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX]


def _agency(request: web.Request) -> str:
    agency = request.match_info["agency"]
    if agency not in AGENCY_IDS:
        raise web.HTTPNotFound(
            text=json.dumps({"error": f"unknown agency {agency!r}"}),
            content_type="application/json",
        )
    return agency


async def _payload(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body must be JSON"}), content_type="application/json"
        ) from None


def _state_of(request: web.Request, agency: str) -> web.Response:
    return _json({agency: _sandbox(request).describe()[agency]})


async def index(request: web.Request) -> web.Response:
    return _json({"agencies": "/agencies", "citizens": "/citizens?count=5", "personas": PERSONAS})


async def agencies(request: web.Request) -> web.Response:
    return _json(_sandbox(request).describe())


async def put_fault(request: web.Request) -> web.Response:
    agency = _agency(request)
    payload = await _payload(request)
    try:
        spec = FaultSpec.model_validate(payload)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        ]
        return _json({"error": "invalid fault spec", "problems": problems}, status=400)
    await _sandbox(request).set_fault(agency, spec)
    return _state_of(request, agency)


async def delete_fault(request: web.Request) -> web.Response:
    agency = _agency(request)
    await _sandbox(request).clear_fault(agency)
    return _state_of(request, agency)


async def put_window(request: web.Request) -> web.Response:
    agency = _agency(request)
    payload = await _payload(request)
    window = payload.get("window") if isinstance(payload, dict) else None
    if window is not None and not isinstance(window, str):
        return _json({"error": 'body must be {"window": "00:00-02:00"} or {"window": null}'}, 400)
    try:
        _sandbox(request).set_maintenance_window(agency, window)
    except ValueError as exc:
        return _json({"error": str(exc)}, status=400)
    return _state_of(request, agency)


async def reset(request: web.Request) -> web.Response:
    await _sandbox(request).reset()
    return _json(_sandbox(request).describe())


def _citizen(code: str, persona: str | None) -> dict[str, Any]:
    person = person_for(code)
    known = person.known_to_registry
    entry: dict[str, Any] = {
        "nationalCode": code,
        "firstName": person.first_name if known else None,
        "lastName": person.last_name if known else None,
        "mobile": person.mobile,
    }
    if persona is not None:
        entry["persona"] = persona
    return entry


async def citizens(request: web.Request) -> web.Response:
    raw = request.query.get("count", "10")
    if not raw.isascii() or not raw.isdigit() or not 0 <= int(raw) <= MAX_CITIZENS:
        return _json({"error": f"count must be an integer from 0 to {MAX_CITIZENS}"}, status=400)
    count = int(raw)
    listed = [_citizen(code, name) for name, code in PERSONAS.items()][:count]
    listed += [_citizen(code, None) for code in sample_national_codes(count - len(listed))]
    return _json(listed)


def build_admin_app(sandbox: Sandbox) -> web.Application:
    app = web.Application()
    app[SANDBOX] = sandbox
    app.router.add_get("/", index)
    app.router.add_get("/agencies", agencies)
    app.router.add_put("/agencies/{agency}/fault", put_fault)
    app.router.add_delete("/agencies/{agency}/fault", delete_fault)
    app.router.add_put("/agencies/{agency}/maintenance-window", put_window)
    app.router.add_post("/reset", reset)
    app.router.add_get("/citizens", citizens)
    return app
