"""The HTTP face of the schema: strawberry's aiohttp view, customised through `get_context`.

Authentication happens here, before any GraphQL work: a request with a bad bearer token gets a
401 with a GraphQL-shaped error body. The request's deadline is set here too, once.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from strawberry.aiohttp.views import GraphQLView

from auth.principal import Principal
from auth.tokens import TokenVerifier
from connectors.deadline import Deadline, set_deadline
from connectors.registry import Connectors
from domain.errors import Unauthenticated
from observability.audit_trail import AccessTrail
from observability.auditor import Auditor
from observability.metrics import Metrics
from resolvers.context import GatewayContext
from schema.error_codes import error_extensions

__all__ = ["DEADLINE_HEADER", "GatewayView"]

DEADLINE_HEADER = "X-Request-Timeout"
_PRINCIPAL = web.RequestKey("principal", object)


class GatewayView(GraphQLView[GatewayContext, None]):
    """GraphQL over HTTP with bearer authentication and a per-request deadline."""

    def __init__(
        self,
        *,
        connectors: Connectors,
        metrics: Metrics,
        verifier: TokenVerifier,
        deadline_s: float,
        auditor: Auditor | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._auditor = auditor
        self._connectors = connectors
        self._metrics = metrics
        self._verifier = verifier
        self._deadline_s = deadline_s

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        try:
            request[_PRINCIPAL] = self._authenticate(request)
        except Unauthenticated as exc:
            body = {"errors": [{"message": exc.message, "extensions": error_extensions(exc)}]}
            return web.json_response(
                body, status=401, headers={"WWW-Authenticate": 'Bearer realm="panjereh"'}
            )
        return await super().__call__(request)

    def _authenticate(self, request: web.Request) -> Principal | None:
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be `Bearer <token>`")
        return self._verifier.verify(token.strip())

    async def get_context(self, request: web.Request, response: Any) -> GatewayContext:
        set_deadline(Deadline.after(self._deadline_for(request)))
        return GatewayContext(
            request=request,
            principal=request.get(_PRINCIPAL),
            connectors=self._connectors,
            metrics=self._metrics,
            audit=AccessTrail(self._auditor),
        )

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
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
