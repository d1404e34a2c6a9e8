"""What an HTTP request must be before it reaches GraphQL, and how a refusal looks.

A POST body must be `application/json` (an exact media type: `application/jsonp` is not JSON;
parameters such as `charset=utf-8` are fine), valid UTF-8, JSON, an object (a list only when
batching is on), nested at most `MAX_JSON_DEPTH` deep and holding at most `MAX_JSON_VALUES`
values. The body itself is bounded by aiohttp's `client_max_size` (`MAX_BODY_BYTES`), and a
WebSocket message by the same bound.

Every refusal is a 4xx with the GraphQL error shape,
`{"errors": [{"message": …, "extensions": {"code": "BAD_REQUEST", …}}]}`: nothing the client
sends can reach the last-resort 500 handler or log a stack trace.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from cross_web import HTTPException
from strawberry.http.parse_content_type import parse_content_type

from domain.errors import BadRequest
from schema.error_codes import error_extensions

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_VALUES",
    "check_content_type",
    "decode_json",
    "decode_request",
    "refusal",
]

MAX_BODY_BYTES = 1024**2
MAX_JSON_DEPTH = 32
"""GraphQL variables of this schema are flat; 32 leaves room for any input object."""
MAX_JSON_VALUES = 10_000

JSON_MEDIA_TYPE = "application/json"


def check_content_type(method: str, content_type: str | None) -> None:
    """Refuse a body that does not say it is JSON (415); GET carries no body."""
    if method == "GET":
        return
    media_type, _ = parse_content_type(content_type or "")
    if media_type.strip().lower() != JSON_MEDIA_TYPE:
        raise HTTPException(415, f"The body must be {JSON_MEDIA_TYPE}.")


def decode_json(data: str | bytes) -> Any:
    """Decode a JSON text that is UTF-8 and not deeper or larger than the bounds above."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The body is not valid UTF-8.") from None
    try:
        value = json.loads(data)
    except ValueError:  # JSONDecodeError, and an integer longer than Python converts
        raise BadRequest("The body is not valid JSON.") from None
    except RecursionError:
        value = None
        too_deep = True
    else:
        too_deep = False
    if too_deep or not _within_bounds(value):
        raise BadRequest(
            f"The JSON is nested deeper than {MAX_JSON_DEPTH} or holds more than "
            f"{MAX_JSON_VALUES} values."
        )
    return value


def decode_request(data: str | bytes, *, batching: bool) -> dict[str, Any] | list[Any]:
    """Decode a GraphQL request body: a JSON object (or a list of them when batching)."""
    value = decode_json(data)
    if isinstance(value, dict) or (batching and isinstance(value, list)):
        return value
    raise BadRequest("The body must be a JSON object.")


def refusal(exc: Exception) -> web.Response:
    """The JSON response for a request refused before GraphQL."""
    if isinstance(exc, BadRequest):
        status, error = 400, exc
    elif isinstance(exc, web.HTTPRequestEntityTooLarge):
        status, error = 413, BadRequest(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    elif isinstance(exc, HTTPException):
        status, error = exc.status_code, BadRequest(exc.reason)
    else:
        raise TypeError(f"not a refusal: {type(exc).__name__}") from exc
    body = {"errors": [{"message": error.message, "extensions": error_extensions(error)}]}
    return web.json_response(body, status=status)


def _within_bounds(value: Any) -> bool:
    """Depth and size of a decoded JSON value, walked without recursion."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    count = 0
    while pending:
        item, depth = pending.pop()
        count += 1
        if depth > MAX_JSON_DEPTH or count > MAX_JSON_VALUES:
            return False
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
    return True
