"""The HTTP and WebSocket face of the schema: strawberry's aiohttp view, customised through
`get_context` and `on_ws_connect`.

Authentication happens here, before any GraphQL work: a request with a bad bearer token gets a
401 with a GraphQL-shaped error body. What a request must be to reach GraphQL at all (method,
content type, JSON shape, parameters, size) is `schema.http_input`; the media type of every
answer is chosen from `Accept` first (`schema.media_types`), and the status and body of a GraphQL
result follow from it (`schema.http_answer`). In development a browser asking for `/graphql`
gets GraphiQL, served with every asset from the gateway itself (`schema.graphiql`).

A WebSocket takes its token from `connection_init` (`{"Authorization": "Bearer …"}`) or the
upgrade request, is refused with 4403 if it is not valid, re-verifies it for every operation
(`OperationScope`) and is closed with 4401 when it expires.
Each operation's deadline (`deadline_s`) starts when the operation does.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import DocumentNode, GraphQLError, parse
from strawberry.aiohttp.views import GraphQLView
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.types import QueryParams
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from auth.connection import ConnectionAuth, bearer_token
from auth.principal import Principal
from auth.tokens import TokenVerifier
from connectors.circuit_overrides import CircuitOverrides
from connectors.registry import Connectors
from domain.errors import (
    BadRequest,
    MethodNotAllowed,
    NotAcceptable,
    RateLimited,
    Unauthenticated,
)
from observability.agency_health.model import HealthBook
from observability.audit_trail import AccessTrail
from observability.auditor import Auditor
from observability.maintenance import MaintenanceCalendar
from observability.metrics import Metrics
from observability.middleware import REQUEST_ID
from observability.request_outcome import RequestOutcome, classify
from ratelimits.limiter import RateLimiter
from ratelimits.refusal import too_many_requests
from resolvers.context import GatewayContext, RequestLoaders
from schema import http_input, json_bytes
from schema.error_codes import error_extensions
from schema.graphiql.page import GraphiQLPage
from schema.http_answer import answer_body, answer_status
from schema.media_types import ResponseMedia, names_html, negotiate
from schema.persisted.gate import PersistedQueryGate
from schema.persisted.http import cache_headers, execute_persisted
from schema.response_cache.cache import ResponseCache

__all__ = ["DEADLINE_HEADER", "EXPIRED_CLOSE_CODE", "GatewayView"]

DEADLINE_HEADER = "X-Request-Timeout"
EXPIRED_CLOSE_CODE = 4401
_PRINCIPAL = web.RequestKey("principal", object)
_CONNECTION = web.RequestKey("connection_auth", ConnectionAuth)
_MEDIA = web.RequestKey("response_media", ResponseMedia)
_COUNTED = web.RequestKey("graphql_counted", bool)
"""Set when the request's outcome has been counted in `graphql_requests_total` already."""
_METHODS = ("GET", "POST")


class GatewayView(GraphQLView[GatewayContext, None]):
    """GraphQL over HTTP with bearer authentication and a per-request deadline."""

    def __init__(
        self,
        *,
        connectors: Connectors,
        metrics: Metrics,
        circuits: CircuitOverrides,
        verifier: TokenVerifier,
        deadline_s: float,
        persisted: PersistedQueryGate,
        rate_limiter: RateLimiter | None = None,
        auditor: Auditor | None = None,
        response_cache: ResponseCache | None = None,
        health: HealthBook | None = None,
        maintenance: MaintenanceCalendar | None = None,
        graphiql: GraphiQLPage | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(graphql_ide="graphiql" if graphiql else None, **kwargs)
        self._health = health
        self._maintenance = maintenance
        self._graphiql = graphiql
        self._responses = response_cache
        self._auditor = auditor
        self._connectors = connectors
        self._metrics = metrics
        self._circuits = circuits
        self._verifier = verifier
        self._deadline_s = deadline_s
        self._persisted = persisted
        self._rate_limiter = rate_limiter

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        media = None if upgrade else negotiate(request.headers.get("Accept"))
        request[_MEDIA] = media or ResponseMedia.JSON  # a 406 is written in plain JSON
        if upgrade:
            return await self._answer(request)  # a connection, not a request in flight
        with self._metrics.graphql_in_flight.track_inprogress():
            response = await self._answer(request, acceptable=media is not None)
        refused = response.status >= 400 and response.status != 500
        if refused and not request.get(_COUNTED, False):  # refused before GraphQL ran
            self._metrics.graphql_requests.labels(RequestOutcome.CLIENT_ERROR).inc()
        return response

    async def _answer(self, request: web.Request, *, acceptable: bool = True) -> web.StreamResponse:
        try:
            request[_PRINCIPAL] = await self._authenticate(request)
        except Unauthenticated as exc:
            self._metrics.auth_failures.labels(exc.reason).inc()
            # A refused token is an anonymous attempt: counted by address, so that guessing
            # tokens or spraying signatures is bounded like any other anonymous request.
            refused = await self._count(None, request)
            if refused is not None:
                return self._in_media(request, refused)
            body = {"errors": [{"message": exc.message, "extensions": error_extensions(exc)}]}
            return self._in_media(
                request,
                web.json_response(
                    body, status=401, headers={"WWW-Authenticate": 'Bearer realm="panjereh"'}
                ),
            )
        refused = await self._count(request[_PRINCIPAL], request)  # before any GraphQL work
        if refused is not None:
            return self._in_media(request, refused)
        try:
            if request.method not in _METHODS:
                raise MethodNotAllowed("GraphQL is served over GET and POST.", allowed=_METHODS)
            if not acceptable and not self._wants_graphiql(
                request.method, request.query, request.headers
            ):
                raise NotAcceptable(
                    "Accept admits no GraphQL answer: ask for application/graphql-response+json "
                    "or application/json."
                )
            if self._responses is not None:  # after the rate limits, before any GraphQL work
                kept = await self._responses.serve(request, request[_PRINCIPAL])
                if kept is not None:
                    return self._kept_answer(request, kept)
            return await self.run(request=request)
        except (BadRequest, HTTPException, web.HTTPRequestEntityTooLarge) as exc:
            return http_input.refusal(exc, request[_MEDIA])
        finally:
            connection = request.get(_CONNECTION)
            if connection is not None:
                await connection.close()

    async def _count(
        self, principal: Principal | None, request: web.Request
    ) -> web.Response | None:
        """The 429 answer if this request is over its caller's budget, else None."""
        if self._rate_limiter is None:
            return None
        try:
            await self._rate_limiter.check_http(principal, request)
        except RateLimited as exc:
            return too_many_requests(exc)
        return None

    def _in_media(self, request: web.Request, response: web.Response) -> web.Response:
        """A GraphQL-shaped refusal written before the view ran, labelled with the request's
        media type."""
        response.content_type = request[_MEDIA].value
        return response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        http_input.check_content_type(request.method, request.headers.get("Content-Type"))
        return await super().parse_http_body(request)

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        return http_input.query_parameters(params)

    def parse_json(self, data: str | bytes) -> Any:
        batching = self.schema.config.batching_config is not None
        return http_input.decode_request(data, batching=batching)

    def decode_json(self, data: str | bytes) -> object:
        """WebSocket messages: a refused one closes the socket as strawberry does for non-JSON."""
        try:
            return http_input.decode_json(data)
        except BadRequest as exc:
            raise json.JSONDecodeError(exc.message, "", 0) from None

    async def create_websocket_response(
        self, request: web.Request, subprotocol: str | None
    ) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(
            protocols=[subprotocol] if subprotocol else [], max_msg_size=http_input.MAX_BODY_BYTES
        )
        await ws.prepare(request)
        return ws

    async def _authenticate(self, request: web.Request) -> Principal | None:
        token = bearer_token(request.headers.get("Authorization"))
        return None if token is None else await self._verifier.verify(token)

    async def execute_single(  # type: ignore[override]
        self,
        *,
        request: web.Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: web.Response,
        context: GatewayContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Persisted queries (`schema.persisted`) pick the document before strawberry runs it."""

        ran: list[GraphQLRequestData] = []
        undetermined: list[bool] = []

        async def run(data: GraphQLRequestData) -> ExecutionResult:
            ran.append(data)
            try:
                return await super(GatewayView, self).execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=root_value,
                    request_data=data,
                )
            except HTTPException as exc:
                cause = exc.__cause__
                if (
                    isinstance(cause, InvalidOperationTypeError)
                    and cause.operation_type is OperationType.MUTATION
                    and request.method == "GET"
                ):
                    raise MethodNotAllowed(
                        "A mutation cannot be sent over GET: send it as a POST.", allowed=("POST",)
                    ) from exc
                if not isinstance(cause, CannotGetOperationTypeError):
                    raise
                undetermined.append(True)  # a request error of GraphQL's GetOperation()
                error = BadRequest(exc.reason)
                graphql_error = GraphQLError(error.message, extensions=error_extensions(error))
                return ExecutionResult(data=None, errors=[graphql_error])

        result = await execute_persisted(
            self._persisted, request_data, request=request, response=sub_response, run=run
        )
        counted_by_schema = bool(ran) and not undetermined
        if not counted_by_schema and sub_response.status < 400:  # answered without running
            self._metrics.graphql_requests.labels(classify(result.errors, result.data)).inc()
        request[_COUNTED] = counted_by_schema or sub_response.status < 400
        sub_response.set_status(answer_status(request[_MEDIA], result, sub_response.status))
        if self._responses is not None and ran and not result.errors:
            data = ran[0]
            await self._responses.offer(
                request,
                result=result,
                response=await self.process_result(request, result),
                document=self._document(data.query),
                operation_name=data.operation_name,
                variables=data.variables,
                sources=context.loaders.answered_sources(),
                written=context.audit.written,
            )
        return result

    def _document(self, query: str | None) -> DocumentNode | None:
        """The parsed document of a query that has just run (parsed once more if the document
        cache did not keep it)."""
        if not query:
            return None
        cache = getattr(self.schema, "document_cache", None)
        return (cache.get(query) if cache is not None else None) or parse(query)

    def _kept_answer(self, request: web.Request, body: bytes) -> web.Response:
        response = web.Response(body=body, content_type=request[_MEDIA].value, charset="utf-8")
        if request.method == "GET":
            cache_headers(
                request, response, failed=False, max_age=self._persisted.config.get_max_age_s
            )
        return response

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        return self._wants_graphiql(request.method, request.query_params, request.headers)

    def _wants_graphiql(
        self, method: str, query: Mapping[str, Any], headers: Mapping[str, str]
    ) -> bool:
        """While GraphiQL is served: a GET without a query (nor a persisted-query hash) whose
        `Accept` names text/html, as a browser's does."""
        return (
            self._graphiql is not None
            and method == "GET"
            and "query" not in query
            and "extensions" not in query
            and names_html(headers.get("Accept"))
        )

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        assert self._graphiql is not None  # should_render_graphql_ide said so
        return self._graphiql.render()

    async def get_sub_response(self, request: web.Request) -> web.Response:
        media = request.get(_MEDIA, ResponseMedia.JSON)
        return web.Response(content_type=media.value, charset="utf-8")

    async def process_result(
        self, request: web.Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        media = request.get(_MEDIA, ResponseMedia.JSON)
        return answer_body(media, result, body)  # type: ignore[arg-type, return-value]

    async def get_context(self, request: web.Request, response: Any) -> GatewayContext:
        principal = request.get(_PRINCIPAL)
        limiter = self._rate_limiter
        context = GatewayContext(
            request=request,
            principal=principal,
            connectors=self._connectors,
            metrics=self._metrics,
            circuits=self._circuits,
            deadline_s=self._deadline_for(request),
            request_id=request.get(REQUEST_ID),
            loaders=RequestLoaders(budget=limiter.lookup_budget(principal) if limiter else None),
            rate_limiter=limiter,
            audit=AccessTrail(self._auditor),
            health=self._health,
            maintenance=self._maintenance,
        )
        if isinstance(response, web.WebSocketResponse):
            context.principal = None  # known once `connection_init` has been verified
            context.connection = request[_CONNECTION] = ConnectionAuth(
                self._verifier, on_expiry=functools.partial(_close_expired, response)
            )
        return context

    async def on_ws_connect(self, context: GatewayContext) -> UnsetType | dict[str, object] | None:
        """Verify the connection's token: `connection_init`'s `Authorization`, else the header."""
        assert context.connection is not None and context.request is not None
        params = context.connection_params or {}
        value = params.get("Authorization", params.get("authorization"))
        try:
            token = bearer_token(value or context.request.headers.get("Authorization"))
            context.principal = await context.connection.accept(token)
        except Unauthenticated as exc:
            self._metrics.auth_failures.labels(exc.reason).inc()
            raise ConnectionRejectionError(
                {"message": exc.message, "extensions": error_extensions(exc)}
            ) from exc
        return UNSET

    def _deadline_for(self, request: web.Request) -> float:
        """The configured deadline, or a shorter one the client asked for; never longer."""
        asked = request.headers.get(DEADLINE_HEADER)
        if asked:
            try:
                seconds = float(asked)
            except ValueError:
                return self._deadline_s
            if seconds > 0:
                return min(seconds, self._deadline_s)
        return self._deadline_s

    def encode_json(self, data: object) -> str:
        """WebSocket messages (text frames); HTTP answers are bytes (`create_response`)."""
        return json_bytes.dumps(data).decode()

    def create_response(self, response_data: Any, sub_response: web.Response) -> web.Response:
        """The body as bytes, in the media type `get_sub_response` labelled it with."""
        sub_response.body = json_bytes.dumps(response_data)
        return sub_response


async def _close_expired(ws: web.WebSocketResponse) -> None:
    await ws.close(code=EXPIRED_CLOSE_CODE, message=b"the bearer token has expired")
