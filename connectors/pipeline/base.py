"""The one resilience pipeline every agency connector goes through.

A connector subclass only describes its agency: `agency_id`, `policy`, and operations that name
a request, its wire model and its mapping to a domain model. Everything else is here, once:

    operation (fetch_x)      @operation → connectors.pipeline.operations: cache, singleflight,
                             stale-while-revalidate, stale-if-error; the caller's deadline in;
                             not called in maintenance (a window, or the agency's 503 + Retry-After)
      └─ request()           tenacity retries: transient errors only, within the deadline,
                             the policy and the retry budget
           └─ _attempt()     maintenance window (not called), circuit breaker (every attempt
                             with a verdict counts; open ends the retries), bulkhead,
                             timeout = min(policy timeout, time left),
                             one `Outcome` → metrics, breaker, a health `Sample`
                ├─ Transport.send()     the HTTP exchange; transport errors → error tree
                ├─ _raise_for_status()  HTTP status → error tree
                └─ _interpret()         parse, check and map to the domain → error tree

The mapping to domain models runs inside the attempt, so an answer that parses but cannot be
mapped (a nine-digit postal code) is the attempt's `BAD_RESPONSE`, never an `OK` followed by an
error. Nothing above `_attempt` sees a transport exception, a status code or a parser's error:
each is translated once, below it, with `raise … from exc`.

Maintenance: with a calendar (`maintenance`, see `observability.maintenance`) the agency is not
called while it is in a planned window; the caller gets its cached copy marked stale, else
`AgencyInMaintenance` saying when it is expected back. An agency that answers 503 with
Retry-After is in maintenance too: the citizen is told when it is back (now + Retry-After), and
operations do not call it again until then (at most `_AGENCY_SAID_MAX_S`). Maintenance is no
verdict for the breaker. Times of maintenance are the cache's wall clock (`cache.clock`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter
from tenacity import RetryCallState

from cache.store import CacheStore
from connectors.pipeline.breaker import CircuitBreaker, CircuitState
from connectors.pipeline.deadline import Clock, Deadline
from connectors.pipeline.operations import OperationRunner
from connectors.pipeline.outcome import Outcome, failure_of
from connectors.pipeline.policy import AgencyPolicy
from connectors.pipeline.recent import RecentLimits, RecentOperations
from connectors.pipeline.retry_after import retry_after_seconds
from connectors.pipeline.retry_budget import RetryBudget
from connectors.pipeline.retrying import build_retrying
from connectors.pipeline.transport import Transport, TransportRequest, TransportResponse
from domain.errors import (
    AgencyBadResponse,
    AgencyError,
    AgencyInMaintenance,
    AgencyNotFound,
    AgencyRateLimited,
    AgencyRejected,
    AgencyTimeout,
    AgencyUnavailable,
    CircuitOpen,
)
from domain.sourced import Fetched
from observability.agency_health.model import HealthBook, MaintenanceWindow, Sample
from observability.metrics import Metrics
from observability.request_ids import REQUEST_ID_HEADER, accepted_request_id

__all__ = ["AgencyConnector", "MaintenanceView", "agency_of", "operation"]

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
C = TypeVar("C", bound="AgencyConnector")

_TRANSIENT_STATUSES = frozenset({502, 503, 504})
_QUIET = frozenset({Outcome.OK, Outcome.NOT_FOUND, Outcome.CANCELLED})
"""Attempt outcomes logged at DEBUG; every other one is a WARNING line."""
_AGENCY_SAID_MAX_S = 600.0
"""Longest an agency's own 503 + Retry-After keeps operations from calling it: past it, one
call finds out again (probes go on meanwhile)."""


class MaintenanceView(Protocol):
    """What the pipeline asks of a maintenance calendar, on every call: cheap and synchronous."""

    def active(self, agency: str, at: float | None = None) -> MaintenanceWindow | None: ...

    def planned(self, agency: str) -> bool:
        """Whether any window of `agency` is known (nightly, or one-off not over yet)."""
        ...


class AgencyConnector:
    """Base of every agency connector; subclasses declare, this class does the work.

    `transport` sends the HTTP exchanges (aiohttp in production, a scripted one in unit tests);
    `health`, when given, gets a `Sample` of every attempt the agency answered or failed (see
    `_settle`); `clock` (monotonic seconds), `wall` (unix seconds, the samples' time) and `sleep`
    are injectable so tests move time instead of waiting.
    """

    agency_id: ClassVar[str]
    name_fa: ClassVar[str]
    """The agency's name as citizens know it (Persian); ops pages show it beside `name_en`."""
    name_en: ClassVar[str]
    policy: ClassVar[AgencyPolicy] = AgencyPolicy()
    probe_path: ClassVar[str] = "/health"
    """What the prober GETs (connectors.pipeline.probe): the agency's health endpoint, or its
    cheapest read that needs no citizen's identity. It must answer 2xx with a body that
    `probe_answer_ok` accepts."""

    def __init__(
        self,
        *,
        base_url: str,
        transport: Transport,
        cache: CacheStore,
        metrics: Metrics,
        policy: AgencyPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Clock = time.monotonic,
        maintenance: MaintenanceView | None = None,
        recent: RecentLimits | None = None,
        health: HealthBook | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.cache = cache
        self.metrics = metrics
        if policy is not None:
            self.policy = policy
        self._sleep = sleep
        self._clock = clock
        self.maintenance = maintenance
        self.health = health
        self._wall = wall
        self._agency_back_at = 0.0  # wall time the agency's last 503 + Retry-After named
        self._agency_quiet_until = 0.0  # ... and until when operations do not call it
        self.operations = OperationRunner(
            self.agency_id,
            self.policy,
            cache,
            metrics,
            clock=clock,
            gate=self.maintenance_refusal,
            recent=self._recent(recent),
        )
        self.breaker = CircuitBreaker(
            self.agency_id, self.policy.breaker, clock=clock, listener=self._on_circuit_change
        )
        self.retry_budget = RetryBudget(self.policy.retry_budget, clock=clock)
        self._bulkhead = asyncio.Semaphore(self.policy.max_concurrent)

    # -- requests ---------------------------------------------------------------------------

    async def get_json(
        self,
        path: str,
        model: type[M],
        to_domain: Callable[[M], T],
        *,
        deadline: Deadline | None,
        params: Mapping[str, str] | None = None,
        check: Callable[[M], None] | None = None,
    ) -> T:
        """GET `path`, validate the JSON body as `model` and map it with `to_domain`."""
        parse = _json_reader(model, to_domain, check)
        return await self.request("GET", path, parse=parse, deadline=deadline, params=params)

    async def post_json(
        self,
        path: str,
        body: Mapping[str, Any],
        model: type[M],
        to_domain: Callable[[M], T],
        *,
        deadline: Deadline | None,
        check: Callable[[M], None] | None = None,
    ) -> T:
        """POST a JSON body (an idempotent inquiry), validate the answer as `model`, map it."""
        parse = _json_reader(model, to_domain, check)
        return await self.request("POST", path, parse=parse, deadline=deadline, json=body)

    async def request(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[bytes], T],
        deadline: Deadline | None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> T:
        """One logical read from the agency, retried on transient failures until `deadline`.

        `parse` turns the body into the domain value inside each attempt (raising ValueError,
        or an error of the tree, when it cannot), so an agency's "try again" result code inside
        a 200 body is retried like a 503 and a value that does not map is a failed attempt.
        Every attempt sends the deadline's request id as `X-Request-Id` (retries the same one).
        """
        retrying = build_retrying(
            self.policy,
            sleep=self._sleep,
            before_sleep=self._on_retry,
            budget=self.retry_budget,
            deadline=deadline,
        )
        headers = _with_request_id(headers, deadline)
        call = _Call(method, self.base_url + path, params, json, data, headers, parse, deadline)
        return await retrying(self._attempt, call)

    def _on_retry(self, retry_state: RetryCallState) -> None:
        self.metrics.agency_retries.labels(self.agency_id).inc()

    def _on_circuit_change(self, agency: str, old: CircuitState, new: CircuitState) -> None:
        self.metrics.agency_circuit_state.labels(agency).set(int(new))
        self.metrics.agency_circuit_forced.labels(agency).set(int(self.breaker.forced))
        if old != new:
            log.warning("circuit of %s: %s -> %s", agency, old.name, new.name)

    async def _attempt(self, call: _Call[T]) -> T:
        """One attempt: admitted by the breaker and the bulkhead, bounded by the timeout, its
        outcome settled once (metrics, breaker, health sample) whatever happens."""
        timeout = self._attempt_timeout(call.deadline)
        in_window = self._in_window(self.cache.clock())
        if in_window is not None:
            self.metrics.agency_requests.labels(self.agency_id, Outcome.MAINTENANCE).inc()
            raise in_window
        try:
            self.breaker.before_call()
        except CircuitOpen:
            self.metrics.agency_requests.labels(self.agency_id, Outcome.CIRCUIT_OPEN).inc()
            raise
        if call.first:  # the retry budget counts calls the agency was actually sent
            call.first = False
            self.retry_budget.record_call()
        started = self._clock()
        outcome = Outcome.OK
        called = False
        status: int | None = None  # what the agency answered, if it answered
        back_in: float | None = None  # seconds until the end of a maintenance it announced
        try:
            async with self._slot(timeout):
                left = timeout - (self._clock() - started)  # the slot wait is part of it
                if left < _MIN_CALL_S:
                    message = f"the time ran out before {self.agency_id} could be called"
                    raise AgencyTimeout(self.agency_id, message)
                called = True
                response = await self.transport.send(call.to_send(self, left))
            status = response.status
            self._raise_for_status(response)
            value = self._interpret(call, response.body)
            self._agency_quiet_until = 0.0  # it answers: whatever it said of maintenance is over
            return value
        except AgencyError as exc:
            outcome = Outcome.of(exc)
            if isinstance(exc, AgencyInMaintenance):
                back_in = exc.retry_after
            if outcome is Outcome.TIMEOUT and (
                not called or timeout < self.policy.breaker.min_verdict_s
            ):
                outcome = Outcome.DEADLINE  # not asked, or given too little time to judge it
            raise
        except asyncio.CancelledError:
            outcome = Outcome.CANCELLED
            raise
        except Exception:
            outcome = Outcome.ERROR  # a fault of ours; logged where it surfaces
            raise
        finally:
            self._settle(outcome, self._clock() - started, status=status, back_in=back_in)

    def _recent(self, limits: RecentLimits | None) -> RecentOperations | None:
        """The record of operations the pre-window refresh re-runs: only with a calendar, and
        kept only while the agency has a window planned."""
        calendar = self.maintenance
        if limits is None or calendar is None:
            return None
        agency = self.agency_id
        return RecentOperations(limits, clock=self._clock, wanted=lambda: calendar.planned(agency))

    def maintenance_refusal(self) -> AgencyInMaintenance | None:
        """Why operations must not call the agency now: a maintenance window, or its own 503 with
        Retry-After still running; None when it may be called. Cheap: no I/O."""
        now = self.cache.clock()
        refusal = self._in_window(now)
        if refusal is None and now < self._agency_quiet_until:
            refusal = AgencyInMaintenance(self.agency_id, self._agency_back_at, now=now)
        return refusal

    def _in_window(self, now: float) -> AgencyInMaintenance | None:
        """The refusal for a calendar or ops window holding the agency at `now`, if any."""
        if self.maintenance is None:
            return None
        window = self.maintenance.active(self.agency_id, now)
        if window is None:
            return None
        return AgencyInMaintenance(self.agency_id, window.ends_at, now=now)

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
        in_use = self.metrics.agency_bulkhead_in_use.labels(self.agency_id)
        in_use.inc()
        try:
            yield
        finally:
            in_use.dec()
            self._bulkhead.release()

    def _interpret(self, call: _Call[T], body: bytes) -> T:
        """Parse, check and map the body; whatever a parser or a mapping trips on means the
        payload was not as documented."""
        try:
            return call.parse(body)
        except AgencyError:
            raise
        except Exception as exc:
            message = f"{self.agency_id} answered in an unexpected format"
            raise AgencyBadResponse(self.agency_id, message) from exc

    def _attempt_timeout(self, deadline: Deadline | None) -> float:
        if deadline is None:
            return self.policy.timeout
        left = deadline.remaining()
        if left <= 0:
            raise AgencyTimeout(self.agency_id, "the request's deadline passed before this call")
        return min(self.policy.timeout, left)

    def _raise_for_status(self, response: TransportResponse) -> None:
        status = response.status
        if status < 400:
            return
        agency = self.agency_id
        retry_after = retry_after_seconds(response.headers.get("Retry-After"), self.cache.clock())
        if status == 404:
            raise AgencyNotFound(agency, f"{agency} holds no record for this request")
        if status == 429:
            raise AgencyRateLimited(
                agency,
                f"{agency} is limiting requests",
                retry_after=retry_after,
                transient=retry_after is not None,
            )
        if status == 503 and retry_after is not None:  # planned: the agency says when
            now = self.cache.clock()
            self._agency_back_at = now + retry_after
            self._agency_quiet_until = now + min(retry_after, _AGENCY_SAID_MAX_S)
            raise AgencyInMaintenance(agency, now + retry_after, now=now, transient=True)
        if status >= 500:
            raise AgencyUnavailable(
                agency,
                f"{agency} answered with a server error ({status})",
                retry_after=retry_after,
                transient=status in _TRANSIENT_STATUSES,
            )
        raise AgencyBadResponse(agency, f"{agency} rejected the request ({status})")

    def _settle(
        self,
        outcome: Outcome,
        seconds: float,
        *,
        status: int | None = None,
        back_in: float | None = None,
    ) -> None:
        """Count one admitted attempt: its metric, the breaker, and a health sample for every
        attempt that says something of the agency (a verdict, or its announced maintenance;
        not ERROR, a fault of ours). `status` tells a refused connection from a 5xx; `back_in`
        is the Retry-After of an announced maintenance, kept as the sample's `back_at`."""
        m, agency = self.metrics, self.agency_id
        verdict = outcome.verdict
        if verdict is None:
            self.breaker.abandon()
        else:
            self.breaker.record(verdict)
        m.agency_requests.labels(agency, outcome).inc()
        m.agency_request_duration.labels(agency).observe(seconds)
        log.log(
            logging.DEBUG if outcome in _QUIET else logging.WARNING,
            "agency call %s %s %.1fms",
            agency,
            outcome.value,
            seconds * 1000,
            extra={"agency": agency, "outcome": outcome.value, "duration_ms": seconds * 1000},
        )
        planned = outcome is Outcome.MAINTENANCE
        judged = verdict is not None and outcome is not Outcome.ERROR
        if self.health is not None and (planned or judged):
            failure = None if verdict or planned else failure_of(outcome, status)
            at = self._wall()
            sample = Sample(
                agency,
                at,
                bool(verdict),
                seconds,
                failure=failure,
                maintenance=planned,
                back_at=at + back_in if planned and back_in is not None else None,
            )
            self.health.record(sample)

    def probe_answer_ok(self, body: bytes) -> bool:
        """Whether a 2xx answer of `probe_path` is healthy: by default `{"status": "ok"}`."""
        try:
            answer = _PROBE_ANSWER.validate_json(body)
        except ValueError:
            return False
        return answer.get("status") == "ok"

    # -- operations -------------------------------------------------------------------------

    async def run_operation(
        self,
        kind: str,
        subject: str,
        load: Callable[[Deadline], Awaitable[T]],
        adapter: TypeAdapter[T],
        deadline: Deadline | None,
    ) -> Fetched[T]:
        """One cached, single-flight agency operation (see `connectors.pipeline.operations`)."""
        return await self.operations.run(kind, subject, load, adapter, deadline)

    async def close(self) -> None:
        await self.operations.close()


Operation = Callable[..., Awaitable[T]]


def operation(kind: str) -> Callable[[Operation[T]], Operation[Fetched[T]]]:
    """Declare a connector method as a cached, single-flight agency operation of `kind`.

    The method takes its subject as positional strings (national code, mobile, …) and the
    deadline it must keep as `deadline=`; its return annotation says how the value is stored.
    Callers call it with the subject and their request's deadline (None: the agency's whole
    budget); the method receives the deadline of the flight that runs it.
    """

    def decorate(fn: Operation[T]) -> Operation[Fetched[T]]:
        adapter: TypeAdapter[T] | None = None

        @functools.wraps(fn)
        async def run(
            self: AgencyConnector, *subject: str, deadline: Deadline | None = None
        ) -> Fetched[T]:
            nonlocal adapter
            if adapter is None:
                adapter = TypeAdapter(typing.get_type_hints(fn)["return"])

            def load(flight_deadline: Deadline) -> Awaitable[T]:
                return fn(self, *subject, deadline=flight_deadline)

            return await self.run_operation(kind, "|".join(subject), load, adapter, deadline)

        return run

    return decorate


def agency_of(op: Callable[..., Any]) -> str | None:
    """The agency of a connector's bound operation (e.g. `ShahkarConnector.check_mobile`), as
    the request's loaders hold it; None for anything else."""
    return getattr(getattr(op, "__self__", None), "agency_id", None)


def _with_request_id(
    headers: Mapping[str, str] | None, deadline: Deadline | None
) -> Mapping[str, str] | None:
    """The call's headers and its request's id, if the deadline has one that passes the rule
    (an id that does not is never put in a header)."""
    request_id = accepted_request_id(deadline.request_id) if deadline is not None else None
    if request_id is None:
        return headers
    return {**(headers or {}), REQUEST_ID_HEADER: request_id}


def _json_reader(
    model: type[M], to_domain: Callable[[M], T], check: Callable[[M], None] | None
) -> Callable[[bytes], T]:
    """bytes → wire model → (check) → domain value, all inside one attempt."""

    def read(body: bytes) -> T:
        wire = model.model_validate_json(body)
        if check is not None:
            check(wire)
        return to_domain(wire)

    return read


@dataclass(slots=True)
class _Call(Generic[T]):
    """One logical read, as each of its attempts needs it."""

    method: str
    url: str
    params: Mapping[str, str] | None
    json: Any
    data: bytes | str | None
    headers: Mapping[str, str] | None
    parse: Callable[[bytes], T]
    deadline: Deadline | None
    first: bool = True

    def to_send(self, connector: AgencyConnector, timeout: float) -> TransportRequest:
        return TransportRequest(
            agency=connector.agency_id,
            method=self.method,
            url=self.url,
            timeout=timeout,
            max_body_bytes=connector.policy.max_body_bytes,
            params=self.params,
            json=self.json,
            data=self.data,
            headers=self.headers,
        )


_PROBE_ANSWER: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
_MIN_CALL_S = 0.05  # an agency call with less time than this would only be wasted on it
