"""HTTP middleware, kept minimal: request id, access log, and a last-resort error handler."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

__all__ = ["REQUEST_ID", "REQUEST_ID_HEADER", "access_log", "last_resort"]

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID = web.RequestKey("request_id", str)
log = logging.getLogger("panjereh.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every request an id (echoed back) and log one line for it: no query text, no body."""
    request_id = request.headers.get(REQUEST_ID_HEADER, "")[:64] or uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    response = await handler(request)
    response.headers[REQUEST_ID_HEADER] = request_id
    log.info(
        "%s %s %s %.1fms id=%s",
        request.method,
        request.path,
        response.status,
        (time.perf_counter() - started) * 1000,
        request_id,
    )
    return response


@web.middleware
async def last_resort(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn anything unexpected into a plain 500 without a stack trace for the client."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        logging.getLogger("panjereh.errors").exception("unhandled error on %s", request.path)
        body = {"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL"}}]}
        return web.json_response(body, status=500)
