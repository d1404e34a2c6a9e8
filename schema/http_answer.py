"""How a GraphQL result is written over HTTP: its status and its body, by media type.

A *request error* (GraphQL specification, "Errors") is raised before execution begins: the
document does not parse or validate, its variables do not fit, the operation cannot be chosen,
a persisted query is refused. Nothing ran, so the result has no data and no error has a
`path`; a *field error* always has a path, even when it nulls the whole `data`.

                               application/graphql-response+json    application/json (legacy)
    executed (data, maybe       200                                  200
    with field errors)
    request error               400 (500 for a fault of ours),       200, or the 4xx a refusal
                                body without `data`                  set (persisted queries),
                                                                     body with `"data": null`

The legacy column keeps what clients of `application/json` have always been given (the
specification asks 200 for every well-formed request under that type). Refusals of the HTTP
request itself (405, 406, 413, 415, a malformed request: 400) are 4xx under both types
(`schema.http_input`).
"""

from __future__ import annotations

from typing import Any

from strawberry.types import ExecutionResult

from schema.error_codes import INTERNAL
from schema.media_types import ResponseMedia

__all__ = ["answer_body", "answer_status", "is_request_error"]


def is_request_error(result: ExecutionResult) -> bool:
    """Whether the result is a request error: no data, and errors none of which has a path."""
    errors = result.errors or ()
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def answer_status(media: ResponseMedia, result: ExecutionResult, status: int) -> int:
    """The status of the answer, given the one set so far (200, or a refusal's 4xx)."""
    if media is not ResponseMedia.GRAPHQL_RESPONSE or status >= 400:
        return status
    if not is_request_error(result):
        return status
    internal = any((e.extensions or {}).get("code") == INTERNAL for e in result.errors or ())
    return 500 if internal else 400


def answer_body(
    media: ResponseMedia, result: ExecutionResult, body: dict[str, Any]
) -> dict[str, Any]:
    """The body: under the new media type a request error has no `data` entry at all."""
    if media is ResponseMedia.GRAPHQL_RESPONSE and is_request_error(result):
        return {key: value for key, value in body.items() if key != "data"}
    return body
