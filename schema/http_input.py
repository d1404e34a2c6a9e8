"""What an HTTP request must be before it reaches GraphQL, and how a refusal looks.

A POST body must be `application/json` (an exact media type: `application/jsonp` is not JSON;
`charset=utf-8` is fine, another charset is not), valid UTF-8, JSON, an object (a list only when
batching is on), nested at most `MAX_JSON_DEPTH` deep and holding at most `MAX_JSON_VALUES`
values. The body itself is bounded by aiohttp's `client_max_size` (`MAX_BODY_BYTES`), and a
WebSocket message by the same bound.

The request's parameters (GraphQL over HTTP, "Request Parameters") must have their types:
`query` a string, `operationName` a string, `variables` and `extensions` objects; each may be
null or absent (`query` only when a persisted-query hash stands for it). Over GET they come from
the query string, `variables` and `extensions` as JSON text, and an empty `operationName` is no
name.

Every refusal is a 4xx with the GraphQL error shape,
`{"errors": [{"message": …, "extensions": {"code": "BAD_REQUEST", …}}]}`, in the media type the
request accepts (`schema.media_types`): 405 (with `Allow`) for a method that cannot do what was
asked, 406 for an `Accept` that admits no GraphQL answer, 413 for a body over the bound, 415 for
a POST body that is not UTF-8 JSON, 400 for anything else. Nothing the client sends can reach
the last-resort 500 handler or log a stack trace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from cross_web import HTTPException
from strawberry.http.parse_content_type import parse_content_type

from domain.errors import (
    BadRequest,
    BodyTooLarge,
    MethodNotAllowed,
    NotAcceptable,
    UnsupportedMediaType,
)
from schema import json_bytes
from schema.error_codes import error_extensions
from schema.media_types import ResponseMedia

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_VALUES",
    "check_content_type",
    "check_parameters",
    "decode_json",
    "decode_request",
    "query_parameters",
    "refusal",
]

MAX_BODY_BYTES = 1024**2
MAX_JSON_DEPTH = 32
"""GraphQL variables of this schema are flat; 32 leaves room for any input object."""
MAX_JSON_VALUES = 10_000

JSON_MEDIA_TYPE = "application/json"
_STATUS: dict[type[BadRequest], int] = {
    MethodNotAllowed: 405,
    NotAcceptable: 406,
    BodyTooLarge: 413,
    UnsupportedMediaType: 415,
}
_PARAMETER_TYPES: dict[str, tuple[type, str]] = {
    "query": (str, "a string"),
    "operationName": (str, "a string"),
    "variables": (dict, "an object"),
    "extensions": (dict, "an object"),
}


def check_content_type(method: str, content_type: str | None) -> None:
    """Refuse a body that does not say it is UTF-8 JSON (415); GET carries no body."""
    if method == "GET":
        return
    if not content_type:
        raise UnsupportedMediaType(f"A POST needs `Content-Type: {JSON_MEDIA_TYPE}`.")
    media_type, params = parse_content_type(content_type)
    if media_type.strip().lower() != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(f"The body must be {JSON_MEDIA_TYPE}.")
    if params.get("charset", "utf-8").strip().lower() not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"The body must be {JSON_MEDIA_TYPE} in UTF-8.")


def check_parameters(parameters: dict[str, Any]) -> None:
    """Refuse a request whose `query`, `operationName`, `variables` or `extensions` is not of
    its type (null stands for absent)."""
    for name, (kind, described) in _PARAMETER_TYPES.items():
        value = parameters.get(name)
        if value is not None and not isinstance(value, kind):
            raise BadRequest(f"`{name}` must be {described}, not {_json_type(value)}.")


def query_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a GET, from its query string, checked as `check_parameters` does."""
    parameters: dict[str, Any] = dict(params)
    for name in ("variables", "extensions"):
        text = parameters.get(name)
        if not text:
            parameters.pop(name, None)
            continue
        try:
            parameters[name] = decode_json(text)
        except BadRequest:
            raise BadRequest(f"`{name}` must be an object in JSON text.") from None
    if parameters.get("operationName") == "":
        del parameters["operationName"]  # the specification: empty is no operation name
    check_parameters(parameters)
    return parameters


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
    """Decode a GraphQL request body: a JSON object (or a list of them when batching) whose
    parameters have their types."""
    value = decode_json(data)
    if isinstance(value, dict) or (batching and isinstance(value, list)):
        for parameters in value if isinstance(value, list) else [value]:
            if not isinstance(parameters, dict):
                raise BadRequest("Each request of a batch must be a JSON object.")
            check_parameters(parameters)
        return value
    raise BadRequest("The body must be a JSON object.")


def refusal(exc: Exception, media: ResponseMedia | None = None) -> web.Response:
    """The answer to a request refused before GraphQL, in `media` (`application/json` when
    the request accepts no GraphQL media type)."""
    if isinstance(exc, BadRequest):
        error = exc
    elif isinstance(exc, web.HTTPRequestEntityTooLarge):
        error = BodyTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    elif isinstance(exc, HTTPException) and exc.status_code == 405:
        error = MethodNotAllowed(exc.reason, allowed=("GET", "POST"))
    elif isinstance(exc, HTTPException):
        error = BadRequest(exc.reason)
    else:
        raise TypeError(f"not a refusal: {type(exc).__name__}") from exc
    body = {"errors": [{"message": error.message, "extensions": error_extensions(error)}]}
    response = web.Response(
        body=json_bytes.dumps(body),
        status=next((s for kind, s in _STATUS.items() if isinstance(error, kind)), 400),
        content_type=(media or ResponseMedia.JSON).value,
        charset="utf-8",
    )
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.allowed)
    return response


def _json_type(value: object) -> str:
    """What a decoded JSON value is, in JSON's words."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {str: "a string", list: "an array", dict: "an object"}.get(type(value), "null")


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
