"""The one resilience pipeline every agency connector goes through.

A connector subclass only describes its agency: `agency_id`, `policy`, and operations that build
requests and map wire models to domain models. Everything else is here, once:

    operation (fetch_x)      @operation → connectors.operations: cache, singleflight,
                             stale-while-revalidate, stale-if-error
      └─ request()           tenacity retries: transient errors only, within the deadline,
                             the policy and the retry budget
           └─ _attempt()     circuit breaker (every attempt with a verdict counts; open ends the
                             retries), bulkhead, timeout = min(policy timeout, time left),
                             outcome metrics
                ├─ _exchange()          the HTTP call; transport errors → error tree
                ├─ _raise_for_status()  HTTP status → error tree
                └─ _interpret()         wire parse and check → error tree

Nothing above `_attempt` sees an aiohttp exception, a status code or a parser's error: each is
translated once, below it, with `raise … from exc`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import functools
import logging
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Concatenate, Generic, ParamSpec, TypeVar

import aiohttp
from pydantic import BaseModel, TypeAdapter
from tenacity import RetryCallState

from cache.store import CacheStore
from connectors.breaker import CircuitBreaker, CircuitState
from connectors.deadline import current_deadline
from connectors.operations import OperationRunner
from connectors.policy import AgencyPolicy
from connectors.retry_budget import RetryBudget
from connectors.retrying import build_retrying
from domain.errors import (
    AgencyBadResponse,
    AgencyError,
    AgencyNotFound,
    AgencyRateLimited,
    AgencyRejected,
    AgencyTimeout,
    AgencyUnavailable,
    CircuitOpen,
)
from domain.sourced import Fetched
from observability.metrics import Metrics

__all__ = ["AgencyConnector", "operation"]

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
C = TypeVar("C", bound="AgencyConnector")
P = ParamSpec("P")

_TRANSIENT_STATUSES = frozenset({502, 503, 504})


class AgencyConnector:
    """Base of every agency connector; subclasses declare, this class does the work."""

    agency_id: ClassVar[str]
    title: ClassVar[str]
    policy: ClassVar[AgencyPolicy] = AgencyPolicy()

    def __init__(
        self,
        *,
        base_url: str,
        session: aiohttp.ClientSession,
        cache: CacheStore,
        metrics: Metrics,
        policy: AgencyPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.cache = cache
        self.metrics = metrics
        if policy is not None:
            self.policy = policy
        self._sleep = sleep
        self.operations = OperationRunner(self.agency_id, self.policy, cache, metrics)
        self.breaker = CircuitBreaker(
            self.agency_id, self.policy.breaker, listener=self._on_circuit_change
        )
        self.retry_budget = RetryBudget(self.policy.retry_budget)
        self.up: bool | None = None
        self._bulkhead = asyncio.Semaphore(self.policy.max_concurrent)

    # -- requests ---------------------------------------------------------------------------

    async def get_json(
        self,
        path: str,
        model: type[M],
        *,
        params: Mapping[str, str] | None = None,
        check: Callable[[M], None] | None = None,
    ) -> M:
        """GET `path` and validate the JSON body as `model`."""
        return await self.request(
            "GET", path, parse=model.model_validate_json, params=params, check=check
        )

    async def post_json(
        self,
        path: str,
        body: Mapping[str, Any],
        model: type[M],
        *,
        check: Callable[[M], None] | None = None,
    ) -> M:
        """POST a JSON body (an idempotent inquiry) and validate the JSON answer as `model`."""
        return await self.request(
            "POST", path, parse=model.model_validate_json, json=body, check=check
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[bytes], T],
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        check: Callable[[T], None] | None = None,
    ) -> T:
        """One logical read from the agency, retried on transient failures.

        `parse` turns the body into a wire model (raising ValueError when it cannot); `check`
        inspects the parsed answer inside the attempt, so an agency's "try again" result code
        inside a 200 body is retried like a 503.
        """
        kwargs: dict[str, Any] = {"params": params, "json": json, "data": data, "headers": headers}
        retrying = build_retrying(
            self.policy, sleep=self._sleep, before_sleep=self._on_retry, budget=self.retry_budget
        )
        call = _Call(method, self.base_url + path, kwargs, parse, check)
        return await retrying(self._attempt, call)

    def _on_retry(self, retry_state: RetryCallState) -> None:
        self.metrics.agency_retries.labels(self.agency_id).inc()

    def _on_circuit_change(self, agency: str, old: CircuitState, new: CircuitState) -> None:
        self.metrics.agency_circuit_state.labels(agency).set(int(new))
        log.warning("circuit of %s: %s -> %s", agency, old.name, new.name)

    async def _attempt(self, call: _Call[T]) -> T:
        """One attempt: admitted by the breaker and the bulkhead, bounded by the timeout, its
        outcome counted once (metrics, breaker) whatever happens."""
        timeout = self._attempt_timeout()
        try:
            self.breaker.before_call()
        except CircuitOpen:
            self.metrics.agency_requests.labels(self.agency_id, "circuit_open").inc()
            raise
        if call.first:  # the retry budget counts calls the agency was actually sent
            call.first = False
            self.retry_budget.record_call()
        started = time.perf_counter()
        outcome = "ok"
        called = False
        try:
            async with self._slot(timeout):
                left = timeout - (time.perf_counter() - started)  # the slot wait is part of it
                if left < _MIN_CALL_S:
                    message = f"the time ran out before {self.agency_id} could be called"
                    raise AgencyTimeout(self.agency_id, message)
                called = True
                status, headers, body = await self._exchange(call, left)
            self._raise_for_status(status, headers)
            return self._interpret(call, body)
        except AgencyError as exc:
            outcome = _outcome_of(exc)
            if outcome == "timeout" and (not called or timeout < self.policy.breaker.min_verdict_s):
                outcome = "deadline"  # the agency was not asked, or given too little time to judge
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception:
            outcome = "error"  # a fault of ours; logged where it surfaces, counted as a failure
            raise
        finally:
            if outcome in _NO_VERDICT:
                self.breaker.abandon()
            else:
                self.breaker.record(outcome in ("ok", "not_found"))
            self._record(outcome, time.perf_counter() - started)

    @contextlib.asynccontextmanager
    async def _slot(self, limit_s: float) -> AsyncIterator[None]:
        """The bulkhead: wait for one of the agency's call slots, but not past the attempt's
        time; a call that finds none is rejected here, before the agency is asked."""
        try:
            async with asyncio.timeout(limit_s):
                await self._bulkhead.acquire()
        except TimeoutError as exc:
            raise AgencyRejected(
                self.agency_id, f"too many calls to {self.agency_id} are in flight"
            ) from exc
        try:
            yield
        finally:
            self._bulkhead.release()

    async def _exchange(self, call: _Call[Any], limit_s: float) -> tuple[int, Any, bytes]:
        """The HTTP exchange, with transport failures translated into the error tree."""
        try:
            async with (
                asyncio.timeout(limit_s),
                self.session.request(call.method, call.url, **call.kwargs) as response,
            ):
                body = await self._read_bounded(response)
                return response.status, response.headers, body
        except TimeoutError as exc:
            message = f"{self.agency_id} did not answer within {limit_s:.1f} s"
            raise AgencyTimeout(self.agency_id, message, transient=True) from exc
        except aiohttp.ClientError as exc:
            message = f"{self.agency_id} could not be reached"
            raise AgencyUnavailable(self.agency_id, message, transient=True) from exc

    async def _read_bounded(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, but never more than the policy's `max_body_bytes`: a larger answer is
        refused as soon as its declared length or the bytes read so far say so, and the
        connection is dropped rather than drained."""
        limit = self.policy.max_body_bytes
        too_large = AgencyBadResponse(
            self.agency_id, f"{self.agency_id} answered with more than {limit} bytes"
        )
        if response.content_length is not None and response.content_length > limit:
            response.close()
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                response.close()
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    def _interpret(self, call: _Call[T], body: bytes) -> T:
        """Parse and check the body; whatever a parser trips on means the payload was not as
        documented."""
        try:
            result = call.parse(body)
            if call.check is not None:
                call.check(result)
        except AgencyError:
            raise
        except Exception as exc:
            message = f"{self.agency_id} answered in an unexpected format"
            raise AgencyBadResponse(self.agency_id, message) from exc
        return result

    def _attempt_timeout(self) -> float:
        deadline = current_deadline()
        if deadline is None:
            return self.policy.timeout
        left = deadline.remaining()
        if left <= 0:
            raise AgencyTimeout(self.agency_id, "the request's deadline passed before this call")
        return min(self.policy.timeout, left)

    def _raise_for_status(self, status: int, headers: Mapping[str, str]) -> None:
        if status < 400:
            return
        agency = self.agency_id
        if status == 404:
            raise AgencyNotFound(agency, f"{agency} holds no record for this request")
        if status == 429:
            retry_after = _parse_retry_after(headers.get("Retry-After"))
            raise AgencyRateLimited(
                agency,
                f"{agency} is limiting requests",
                retry_after=retry_after,
                transient=retry_after is not None,
            )
        if status >= 500:
            raise AgencyUnavailable(
                agency,
                f"{agency} answered with a server error ({status})",
                retry_after=_parse_retry_after(headers.get("Retry-After")),
                transient=status in _TRANSIENT_STATUSES,
            )
        raise AgencyBadResponse(agency, f"{agency} rejected the request ({status})")

    def _record(self, outcome: str, seconds: float) -> None:
        m, agency = self.metrics, self.agency_id
        m.agency_requests.labels(agency, outcome).inc()
        m.agency_request_duration.labels(agency).observe(seconds)
        if outcome in ("ok", "not_found"):
            self.up = True
            m.agency_up.labels(agency).set(1)
        elif outcome in ("unavailable", "timeout"):
            self.up = False
            m.agency_up.labels(agency).set(0)

    # -- operations -------------------------------------------------------------------------

    async def run_operation(
        self,
        kind: str,
        subject: str,
        load: Callable[[], Awaitable[T]],
        adapter: TypeAdapter[T],
    ) -> Fetched[T]:
        """One cached, single-flight agency operation (see `connectors.operations`)."""
        return await self.operations.run(kind, subject, load, adapter)

    async def close(self) -> None:
        await self.operations.close()


def operation(
    kind: str,
) -> Callable[
    [Callable[Concatenate[C, P], Awaitable[T]]],
    Callable[Concatenate[C, P], Awaitable[Fetched[T]]],
]:
    """Declare a connector method as a cached, single-flight agency operation of `kind`.

    The method's positional arguments (strings: national code, mobile, …) make the cache
    subject; its return annotation says how the value is stored and read back.
    """

    def decorate(
        fn: Callable[Concatenate[C, P], Awaitable[T]],
    ) -> Callable[Concatenate[C, P], Awaitable[Fetched[T]]]:
        adapter: TypeAdapter[T] | None = None

        @functools.wraps(fn)
        async def run(self: C, *args: P.args, **kwargs: P.kwargs) -> Fetched[T]:
            nonlocal adapter
            if adapter is None:
                adapter = TypeAdapter(typing.get_type_hints(fn)["return"])
            subject = "|".join(str(a) for a in (*args, *kwargs.values()))
            return await self.run_operation(
                kind, subject, lambda: fn(self, *args, **kwargs), adapter
            )

        return run

    return decorate


@dataclass(slots=True)
class _Call(Generic[T]):
    """One logical read, as each of its attempts needs it."""

    method: str
    url: str
    kwargs: dict[str, Any]
    parse: Callable[[bytes], T]
    check: Callable[[T], None] | None
    first: bool = True


_NO_VERDICT = frozenset({"deadline", "cancelled", "rejected"})
_MIN_CALL_S = 0.05  # an agency call with less time than this would only be wasted on it


def _outcome_of(exc: AgencyError) -> str:
    match exc:
        case AgencyRejected():
            return "rejected"
        case AgencyRateLimited():
            return "rate_limited"
        case AgencyTimeout():
            return "timeout"
        case AgencyUnavailable():
            return "unavailable"
        case AgencyNotFound():
            return "not_found"
        case _:
            return "bad_response"


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
