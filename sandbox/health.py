"""Every sandbox agency's health endpoint: the cheap call the gateway's probes make.

`GET /health` answers 200 `{"status": "ok"}` (JSON, whatever the agency's own wire style).
It is added to each agency's app behind the fault middleware, so a down, hanging, flaky,
malformed or maintenance agency fails its health check the way it fails real calls.
"""

from __future__ import annotations

from aiohttp import web

__all__ = ["HEALTH_PATH", "add_health_route"]

HEALTH_PATH = "/health"
_HEALTHY = b'{"status":"ok"}'


async def _health(request: web.Request) -> web.Response:
    return web.Response(body=_HEALTHY, content_type="application/json")


def add_health_route(app: web.Application) -> web.Application:
    app.router.add_get(HEALTH_PATH, _health)
    return app
