"""What a caller over its request budget gets: HTTP 429, `Retry-After`, a GraphQL-shaped body."""

from __future__ import annotations

import math

from aiohttp import web

from domain.errors import RateLimited
from schema.error_codes import error_extensions

__all__ = ["too_many_requests"]


def too_many_requests(exc: RateLimited) -> web.Response:
    """The 429 answer: nothing of the request was parsed or run."""
    seconds = max(1, math.ceil(exc.retry_after or 1))
    body = {"errors": [{"message": exc.message, "extensions": error_extensions(exc)}]}
    return web.json_response(body, status=429, headers={"Retry-After": str(seconds)})
