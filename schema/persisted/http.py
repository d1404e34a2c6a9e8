"""Persisted queries at the HTTP view: resolve the document first, then say how to cache.

Refusals are answered without running the schema, with the status Apollo clients expect:
PERSISTED_QUERY_NOT_FOUND and _NOT_SUPPORTED with 200 (the link reads the body and retries or
stops hashing), a hash that does not match its query or a malformed extension with 400, a
document outside the manifest with 400.

Cache-Control on GET answers (POST answers are not stored by HTTP caches anyway):

- an answer with any error: `no-store`, so that a "not found" or an agency outage is never
  replayed by a cache after the cause has gone;
- an answer to a bearer token: `private, max-age=<get_max_age_s>` (30 s by default): the
  citizen's own device may reuse it for a few seconds, no shared cache (CDN, proxy) may store
  it; `get_max_age_s = 0` makes it `private, no-store`;
- an anonymous answer (e.g. `billInquiry`, computed from the URL alone): `public,
  max-age=<get_max_age_s>`.

Every GET answer has `Vary: Authorization, Accept`: the token decides what is answered, and
`Accept` its media type and status (`schema.media_types`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from aiohttp import web
from graphql import GraphQLError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from domain.errors import PanjerehError, PersistedQueryNotFound, PersistedQueryNotSupported
from schema.error_codes import error_extensions
from schema.persisted.gate import PersistedQueryGate

__all__ = ["cache_headers", "execute_persisted"]

_RETRY_WITH_QUERY = (PersistedQueryNotFound, PersistedQueryNotSupported)


async def execute_persisted(
    gate: PersistedQueryGate,
    request_data: GraphQLRequestData,
    *,
    request: web.Request,
    response: web.Response,
    run: Callable[[GraphQLRequestData], Awaitable[ExecutionResult]],
) -> ExecutionResult:
    """Run the request's document as the gate resolves it, or answer the gate's refusal."""
    try:
        resolved = await gate.resolve(request_data.query, request_data.extensions)
    except PanjerehError as exc:
        response.set_status(200 if isinstance(exc, _RETRY_WITH_QUERY) else 400)
        response.headers["Cache-Control"] = "no-store"
        error = GraphQLError(exc.message, extensions=error_extensions(exc))
        return ExecutionResult(data=None, errors=[error])
    result = await run(replace(request_data, query=resolved.query))
    if request.method == "GET":
        cache_headers(
            request, response, failed=bool(result.errors), max_age=gate.config.get_max_age_s
        )
    return result


def cache_headers(
    request: web.Request, response: web.StreamResponse, *, failed: bool, max_age: int
) -> None:
    """The Cache-Control and Vary of a GET answer (see the module docstring)."""
    response.headers["Vary"] = "Authorization, Accept"
    personal = "Authorization" in request.headers
    if failed or (personal and max_age == 0):
        response.headers["Cache-Control"] = "private, no-store" if personal else "no-store"
    else:
        scope = "private" if personal else "public"
        response.headers["Cache-Control"] = f"{scope}, max-age={max_age}"
