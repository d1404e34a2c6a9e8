"""Answers to repeated queries, served without running GraphQL (DESIGN §9's fastest answer).

    request ─▶ token verified, rate limits counted (the view) ─▶ key = HMAC(principal, method,
    body or query string) ─▶ kept answer fresh? ─▶ its audit records written again, its ages
    rendered for now, its bytes sent
                                      otherwise ─▶ GraphQL runs ─▶ `offer` keeps the answer if
    it may be kept: a query of cacheable fields (`shape`), no error, every agency part answered
    (no failure, no stale copy; an agency's "no record" is an answer, with the short window of
    its negative entry) and fresh; kept until the earliest of its parts' fresh windows ends, and
    at most `max_age_s`.

The key is private to the principal (kind, subject, level and scopes are hashed in with the
cache key secret; no national code appears in it) and covers everything in the request that
decides the answer: the document or persisted hash, the operation name and the variables, as
sent. Entries live in the same backend as agency data (memory, or Redis shared between
instances), encrypted with AES-GCM when `PANJEREH_CACHE_ENCRYPTION_KEY` is set. Audited reads
stay audited: an entry carries the access records its answer stands for, and each hit writes
them again, with the hit's time and request id. A cache failure is a miss, never an error.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from typing import Any, TypeVar

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from graphql import DocumentNode
from strawberry.types import ExecutionResult

from auth.principal import Principal
from cache.backend import CacheBackend
from domain.errors import BadRequest
from domain.sourced import Source
from observability.audit import AccessEntry, Outcome
from observability.auditor import Auditor
from observability.metrics import Metrics
from observability.middleware import REQUEST_ID
from schema import http_input, json_bytes
from schema.response_cache.config import ResponseCacheConfig
from schema.response_cache.entry import CachedResponse, new_token, slot_marker
from schema.response_cache.shape import Shape

__all__ = ["MIN_KEEP_S", "ResponseCache"]

log = logging.getLogger(__name__)

T = TypeVar("T")

MIN_KEEP_S = 1.0
"""An answer fresh for less than this is not worth a write."""

_KEY = web.RequestKey("response_cache_key", str)
_NONCE_BYTES = 12
_FAILED = object()


class ResponseCache:
    """Kept answers by (principal, request), over a cache backend."""

    def __init__(
        self,
        config: ResponseCacheConfig,
        backend: CacheBackend,
        *,
        key_secret: bytes,
        metrics: Metrics,
        auditor: Auditor | None = None,
        encryption_key: bytes | None = None,
        namespace: str = "panjereh",
        op_timeout: float = 0.25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.backend = backend
        self._secret = key_secret
        self._metrics = metrics
        self._auditor = auditor
        self._aead = AESGCM(encryption_key) if encryption_key else None
        self._prefix = f"{namespace}:response:"
        self._timeout = op_timeout
        self.clock = clock
        self._results = {
            name: metrics.response_cache.labels(name)
            for name in ("hit", "miss", "stored", "uncacheable")
        }

    def key_for(self, principal: Principal | None, method: str, request: bytes) -> str:
        """`namespace:response:<hmac>` of who asks and exactly what they sent."""
        who = (
            b"-"
            if principal is None
            else "\0".join(
                (principal.kind, principal.subject, str(principal.level), *sorted(principal.scopes))
            ).encode()
        )
        digest = hmac.new(self._secret, who + b"\1" + method.encode() + b"\1" + request, "sha256")
        return self._prefix + digest.hexdigest()[:48]

    async def serve(self, request: web.Request, principal: Principal | None) -> bytes | None:
        """The kept answer's body, rendered for now, with its audit records written; or None
        (then the request runs, and its key is remembered for `offer`)."""
        if not self.config.enabled:
            return None
        key = await self._request_key(request, principal)
        if key is None:
            return None
        request[_KEY] = key
        raw = await self._guard("get", self.backend.get(key), None)
        entry = self._decode(key, raw) if raw is not None else None
        now = self.clock()
        if entry is None or now >= entry.fresh_until:
            self._results["miss"].inc()
            return None
        self._audit_again(entry, request)
        self._results["hit"].inc()
        self._metrics.graphql_requests.labels("ok").inc()
        return entry.render(now)

    async def offer(
        self,
        request: web.Request,
        *,
        result: ExecutionResult,
        response: Mapping[str, Any],
        document: DocumentNode | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        sources: list[Source] | None,
        written: list[AccessEntry],
    ) -> bool:
        """Keep `response` (the answer about to be sent for `result`) if it may be kept.

        `sources` are the agency answers the request used ("no record" included), None when
        one of its lookups failed or was refused; `written` the audit records it wrote."""
        key = request.get(_KEY)
        if key is None or not self.config.enabled:
            return False
        now = self.clock()
        fresh_until = _fresh_until(sources, now + self.config.max_age_s)
        if (
            result.errors
            or result.data is None
            or document is None
            or fresh_until is None
            or fresh_until - now < MIN_KEEP_S
            or any(entry.outcome is not Outcome.OK for entry in written)
        ):
            self._results["uncacheable"].inc()
            return False
        shape = Shape(document, operation_name, variables)
        if not shape.cacheable():
            self._results["uncacheable"].inc()
            return False
        body = _serialised(shape, response, sources or [], now)
        if body is None or len(body[1]) > self.config.max_response_bytes:
            self._results["uncacheable"].inc()
            return False
        token, serialised, fetched = body
        audit = tuple(_audit_fields(entry) for entry in written)
        entry = CachedResponse(now, fresh_until, token, serialised, fetched, audit)
        raw = self._encode(key, entry.to_bytes())
        await self._guard("set", self.backend.set(key, raw, fresh_until - now), None)
        self._results["stored"].inc()
        return True

    async def _request_key(self, request: web.Request, principal: Principal | None) -> str | None:
        """The key of a request that could have been kept: a JSON POST or a GET with a query
        string (a body the view would refuse is never looked up)."""
        if request.method == "POST":
            try:
                http_input.check_content_type("POST", request.headers.get("Content-Type"))
            except BadRequest:
                return None
            sent = await request.read()
        elif request.method == "GET":
            sent = request.rel_url.raw_query_string.encode()
        else:
            return None
        return self.key_for(principal, request.method, sent) if sent else None

    def _audit_again(self, entry: CachedResponse, request: web.Request) -> None:
        if self._auditor is None or not entry.audit:
            return
        at, request_id = self._auditor.clock(), request.get(REQUEST_ID)
        for fields in entry.audit:
            self._auditor.record(
                AccessEntry(
                    **{
                        **fields,
                        "outcome": Outcome(fields["outcome"]),
                        "agencies": tuple(fields["agencies"]),
                        "fields": tuple(fields["fields"]),
                    },
                    at=at,
                    request_id=request_id,
                )
            )

    async def _guard(self, op: str, call: Awaitable[T], failed: T) -> T:
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except Exception as exc:  # any backend fault is a miss, never the client's problem
            log.warning("response cache %s failed: %s", op, type(exc).__name__)
            return failed

    def _encode(self, key: str, raw: bytes) -> bytes:
        if self._aead is None:
            return b"\0" + raw
        nonce = os.urandom(_NONCE_BYTES)
        return b"\1" + nonce + self._aead.encrypt(nonce, raw, key.encode())

    def _decode(self, key: str, raw: bytes) -> CachedResponse | None:
        if raw[:1] == b"\0" and self._aead is None:
            return CachedResponse.from_bytes(raw[1:])
        if raw[:1] != b"\1" or self._aead is None:
            return None  # plaintext while a key is set, or sealed without one: a miss
        try:
            plain = self._aead.decrypt(
                raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :], key.encode()
            )
        except InvalidTag:
            log.warning("response cache entry failed authentication; treated as a miss")
            return None
        return CachedResponse.from_bytes(plain)


def _fresh_until(sources: list[Source] | None, limit: float) -> float | None:
    """The earliest end of the parts' fresh windows (at most `limit`); None when a part is stale
    or its window unknown."""
    if sources is None:
        return None
    until = limit
    for source in sources:
        if source.stale or source.fresh_until is None:
            return None
        until = min(until, source.fresh_until.timestamp())
    return until


def _serialised(
    shape: Shape, response: Mapping[str, Any], sources: list[Source], now: float
) -> tuple[bytes, bytes, tuple[float, ...]] | None:
    """(token, body with age slots, each slot's fetch time)."""
    data = response.get("data")
    if not isinstance(data, Mapping):
        return None
    slots = list(shape.age_slots(data))
    token = new_token()
    ages = [holder[key] for holder, key in slots]
    fetched = tuple(_fetched_at(age, sources, now) for age in ages)
    try:
        for index, (holder, key) in enumerate(slots):
            holder[key] = slot_marker(token, index)  # type: ignore[index]
        body = json_bytes.dumps(response)
    finally:
        for (holder, key), age in zip(slots, ages, strict=True):
            holder[key] = age  # type: ignore[index]
    return token, body, fetched


def _fetched_at(age: int, sources: list[Source], now: float) -> float:
    """The fetch time of the part an `ageSeconds` value reports: the source whose age now is
    nearest to it (ages are whole seconds, so parts fetched in the same second are alike)."""
    if not sources:
        return now - age
    times = [source.fetched_at.timestamp() for source in sources]
    return min(times, key=lambda at: abs(int(max(0.0, now - at)) - age))


def _audit_fields(entry: AccessEntry) -> dict[str, Any]:
    fields = asdict(entry)
    del fields["at"], fields["request_id"]
    return fields
