"""HTTP middleware, kept minimal: request id, access log, and a last-resort error handler.

The request id goes into the access log, the response header, every audit record of the
request and every agency call it makes, so a client's `X-Request-Id` is kept only when it is an
id and nothing more (the rule is `observability.request_ids`). Anything else is replaced by an
id of our own, returned in the header.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from observability.logs import REQUEST_ID_VAR
from observability.request_ids import REQUEST_ID_HEADER, accepted_request_id, new_request_id
from schema.error_codes import INTERNAL, message_fa

__all__ = [
    "REQUEST_ID",
    "REQUEST_ID_HEADER",
    "accepted_request_id",
    "access_log",
    "last_resort",
    "new_request_id",
]

REQUEST_ID = web.RequestKey("request_id", str)
log = logging.getLogger("panjereh.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_POLLS = frozenset({"/healthz", "/readyz", "/metrics", "/status"})
"""Probes, scrapes and the status page (which reloads itself in every open browser), every few
seconds from every watcher: logged at DEBUG, not INFO."""


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every request an id (echoed back, and on every log line the request causes) and
    log one line for it: no query text, no body, no query string."""
    request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
    request[REQUEST_ID] = request_id
    token = REQUEST_ID_VAR.set(request_id)
    try:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # 404, 405, redirects: answered, so logged too
            exc.headers[REQUEST_ID_HEADER] = request_id
            _log_access(request, exc.status, started)
            raise
        response.headers[REQUEST_ID_HEADER] = request_id
        _log_access(request, response.status, started)
        return response
    finally:
        REQUEST_ID_VAR.reset(token)


def _log_access(request: web.Request, status: int, started: float) -> None:
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    path = _route_path(request)
    log.log(
        logging.DEBUG if path in _POLLS else logging.INFO,
        "%s %s %s %.1fms id=%s",
        request.method,
        path,
        status,
        duration_ms,
        request[REQUEST_ID],
        extra={
            "method": request.method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
        },
    )


def _route_path(request: web.Request) -> str:
    """The route's path, or a fixed word for a path that matched none: a client may put
    anything in a path, a national code included."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(unmatched)"


@web.middleware
async def last_resort(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn anything unexpected into a plain 500 without a stack trace for the client. The
    log names the route, as the access line does, never the path a client typed."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        path = _route_path(request)
        logging.getLogger("panjereh.errors").exception(
            "unhandled error on %s", path, extra={"path": path}
        )
        extensions = {"code": INTERNAL, "retryable": False}
        extensions["messageFa"] = message_fa(extensions)
        body = {"errors": [{"message": "Internal error", "extensions": extensions}]}
        return web.json_response(body, status=500)
