"""The cache side of the pipeline for one agency: every `@operation` call goes through here.

    fresh entry ─────────────▶ answer it (near expiry: also start a background refresh)
    otherwise ─▶ join or start the flight for this key (one task per key per process)
                   flight: cross-instance lease (cache `add`)
                     holder: load from the agency ─▶ store fresh + stale windows
                     others: wait for the holder's fill, else load themselves
    each caller waits for the flight only until its own deadline
    flight failed (or the caller's deadline came first) ─▶ the caller's stale entry, marked stale
    agency said "not found" ─▶ a short negative entry (the `AgencyNotFound` carries its source)
    not fresh, and the gate refuses (the agency is in maintenance) ─▶ no flight at all: the stale
        entry, marked stale, else the gate's error

`refresh` runs an operation again whatever its entry's freshness (the pre-maintenance refresh);
`recent`, when given, remembers each operation run so it can be (see `connectors.pipeline.recent`).

A flight is a task of its own: a caller that is cancelled or runs out of time stops only its own
wait, and the flight still fills the cache for the next request. It is handed the deadline of the
request that started it (so retries are decided against that request's time left); a background
refresh, or a caller without a deadline, gets the agency's full budget instead. State here
(flights) is per process; what crosses processes goes through the cache backend only.

The agency sees the request id the flight's deadline carries: that of the request that started
the flight (a refresh: of the request whose hit was due for one; the pre-maintenance refresh: its
own, `maintenance-<agency>-<random>`). A request that joins a flight
already running adds no call of its own, so the agency's log shows the first request's id for
the answer both got (the joining request's own access line and audit records keep its id).

Values are handed out as they are kept: a hit on the in-process cache returns the very object
stored (see `cache.store`), so what is stored is immutable: domain models are frozen and a list
is kept as a tuple.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from cache.store import UNDECODED, CacheEntry, CacheStore
from connectors.pipeline.deadline import Clock, Deadline
from connectors.pipeline.outcome import Outcome
from connectors.pipeline.policy import AgencyPolicy
from connectors.pipeline.recent import RecentOperations
from domain.errors import (
    AgencyBadResponse,
    AgencyError,
    AgencyNotFound,
    AgencyTimeout,
    AgencyUnavailable,
)
from domain.sourced import Fetched, Source
from observability.metrics import Metrics

__all__ = ["OperationRunner"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Key = tuple[str, str]
Load = Callable[[Deadline], Awaitable[T]]
Gate = Callable[[], AgencyUnavailable | None]
"""Why the agency must not be called now (e.g. `AgencyInMaintenance`), or None."""

_FILL_POLL_S = 0.02
_UNDECODABLE = object()


class OperationRunner:
    """Cache, singleflight, stale-while-revalidate and stale-if-error for one agency."""

    def __init__(
        self,
        agency_id: str,
        policy: AgencyPolicy,
        cache: CacheStore,
        metrics: Metrics,
        *,
        clock: Clock = time.monotonic,
        gate: Gate | None = None,
        recent: RecentOperations | None = None,
    ) -> None:
        self.agency_id = agency_id
        self.policy = policy
        self.cache = cache
        self.metrics = metrics
        self.recent = recent
        self._clock = clock
        self._gate = gate
        self._flights: dict[Key, asyncio.Task[Fetched[Any]]] = {}

    @property
    def flight_budget_s(self) -> float:
        """How long one flight may take: every attempt, and the longest waits between them."""
        p = self.policy
        waits = max(p.backoff_max, p.max_retry_after) * (p.max_attempts - 1)
        return p.timeout * p.max_attempts + waits

    async def run(
        self,
        kind: str,
        subject: str,
        load: Load[T],
        adapter: TypeAdapter[T],
        deadline: Deadline | None = None,
    ) -> Fetched[T]:
        """The value of `kind` for `subject`: cached, or loaded once however many ask, within
        the caller's `deadline` (None: no limit of the caller's own)."""
        if self.recent is not None:
            self.recent.note(kind, subject, load, adapter)
        entry = await self.cache.lookup(self.agency_id, kind, subject)
        value: Any = _UNDECODABLE
        if entry is not None:
            value = self._decode(entry, adapter, kind)
            if value is _UNDECODABLE:
                entry = None
        now = self.cache.clock()
        if entry is not None and entry.is_fresh(now):
            if self._due_for_refresh(entry, now, kind) and self._refusal() is None:
                request_id = deadline.request_id if deadline is not None else None
                self._flight((kind, subject), load, adapter, entry, None, request_id=request_id)
            return self._answer(entry, value, stale=False)
        has_stale = entry is not None and not entry.not_found
        refusal = self._refusal()
        if refusal is not None:  # not called at all: no flight, no lease
            self.metrics.agency_requests.labels(self.agency_id, Outcome.of(refusal)).inc()
            if not has_stale:
                raise refusal
            return self._stale(entry, value, kind, refusal)
        flight = self._flight((kind, subject), load, adapter, entry, deadline)
        grace_s = self.policy.stale_grace_s if has_stale else None
        try:
            return await self._wait(flight, grace_s, deadline)
        except (AgencyUnavailable, AgencyBadResponse) as exc:
            if not has_stale:
                raise
            return self._stale(entry, value, kind, exc)

    async def refresh(
        self,
        kind: str,
        subject: str,
        load: Load[T],
        adapter: TypeAdapter[T],
        *,
        keep_until: float = 0.0,
        request_id: str | None = None,
    ) -> Fetched[T]:
        """Load `kind` for `subject` again, even if its cached copy is fresh (joining a flight
        already running for it), with the agency's full budget and `request_id`; the agency's
        error if it fails. The new copy is kept (servable as stale) at least until `keep_until`
        (cache clock): through the maintenance window the refresh is made for."""
        entry = await self.cache.peek(self.agency_id, kind, subject)
        flight = self._flight(
            (kind, subject), load, adapter, entry, None,
            request_id=request_id, keep_until=keep_until,
        )  # fmt: skip
        return await asyncio.shield(flight)

    def _refusal(self) -> AgencyUnavailable | None:
        return self._gate() if self._gate is not None else None

    def _stale(
        self, entry: CacheEntry | None, value: Any, kind: str, failure: AgencyError
    ) -> Fetched[Any]:
        assert entry is not None
        self.metrics.stale_served.labels(self.agency_id).inc()
        log.info("serving stale %s/%s after an agency failure", self.agency_id, kind)
        return self._answer(entry, value, stale=True, failure=failure)

    async def close(self) -> None:
        """Cancel flights still running; called when the app shuts down."""
        flights = list(self._flights.values())
        for task in flights:
            task.cancel()
        await asyncio.gather(*flights, return_exceptions=True)

    async def _wait(
        self, flight: asyncio.Task[Fetched[T]], grace_s: float | None, deadline: Deadline | None
    ) -> Fetched[T]:
        """Wait for the flight, but no longer than this caller's deadline, nor, when the caller
        has a stale copy to fall back on, than the grace the policy gives a slow agency."""
        limits = [deadline.remaining()] if deadline is not None else []
        if grace_s is not None:
            limits.append(grace_s)
        if not limits:
            return await asyncio.shield(flight)
        try:
            async with asyncio.timeout(max(0.0, min(limits))):
                return await asyncio.shield(flight)
        except TimeoutError as exc:
            message = f"{self.agency_id} did not answer within the request's deadline"
            raise AgencyTimeout(self.agency_id, message) from exc

    def _flight(
        self,
        key: Key,
        load: Load[T],
        adapter: TypeAdapter[T],
        entry: CacheEntry | None,
        deadline: Deadline | None,
        *,
        request_id: str | None = None,
        keep_until: float = 0.0,
    ) -> asyncio.Task[Fetched[T]]:
        """The running flight for `key` (with the deadline and request id of whoever started
        it), or a new one keeping `deadline`; None, as for a background refresh: the agency's
        full budget, sent with `request_id`."""
        flight = self._flights.get(key)
        if flight is not None:
            return flight
        if deadline is None:
            deadline = Deadline.after(
                self.flight_budget_s, clock=self._clock, request_id=request_id
            )
        flight = asyncio.get_running_loop().create_task(
            self._load(key, load, adapter, entry, deadline, keep_until=keep_until)
        )
        self._flights[key] = flight
        flight.add_done_callback(lambda done: self._landed(key, done))
        return flight

    def _landed(self, key: Key, flight: asyncio.Task[Any]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if flight.cancelled():
            return
        exc = flight.exception()  # retrieved here, so a flight nobody awaited is not reported
        if exc is not None and not isinstance(exc, AgencyError):
            log.error("flight %s/%s failed", self.agency_id, key[0], exc_info=exc)

    async def _load(
        self,
        key: Key,
        load: Load[T],
        adapter: TypeAdapter[T],
        entry: CacheEntry | None,
        deadline: Deadline,
        *,
        keep_until: float,
    ) -> Fetched[T]:
        kind, subject = key
        lease_s = self.flight_budget_s + 1.0
        lease = await self.cache.acquire_lease(self.agency_id, kind, subject, lease_s)
        if lease is None:
            newer_than = entry.fetched_at if entry else 0.0
            filled = await self._wait_for_fill(kind, subject, newer_than, lease_s, deadline)
            if filled is not None:
                value = self._decode(filled, adapter, kind)
                if value is not _UNDECODABLE:
                    return self._answer(filled, value, stale=False)
        try:
            return await self._fetch_and_store(
                kind, subject, load, adapter, deadline, keep_until=keep_until
            )
        finally:
            if lease is not None:
                await self.cache.release_lease(self.agency_id, kind, subject, lease)

    async def _wait_for_fill(
        self, kind: str, subject: str, newer_than: float, lease_s: float, deadline: Deadline
    ) -> CacheEntry | None:
        """Another instance holds the lease: wait for what it stores, but leave enough time
        for one attempt of our own in case the holder never fills it."""
        wait = min(lease_s, deadline.remaining() - self.policy.timeout)
        loop = asyncio.get_running_loop()
        until = loop.time() + wait
        while loop.time() < until:
            await asyncio.sleep(_FILL_POLL_S)
            entry = await self.cache.peek(self.agency_id, kind, subject)
            if entry is not None and entry.fetched_at > newer_than:
                return entry
        return None

    async def _fetch_and_store(
        self,
        kind: str,
        subject: str,
        load: Load[T],
        adapter: TypeAdapter[T],
        deadline: Deadline,
        *,
        keep_until: float,
    ) -> Fetched[T]:
        policy, agency = self.policy, self.agency_id
        try:
            value = await load(deadline)  # mapped inside the agency's attempts: see the base
        except AgencyNotFound as exc:
            stored = await self.cache.store(
                agency, kind, subject, b"", not_found=True,
                fresh_ttl=policy.not_found_ttl, stale_ttl=policy.not_found_ttl,
            )  # fmt: skip
            exc.source = self._source(stored, stale=False)  # "no record" is an answer too
            raise
        fresh_ttl, stale_ttl = policy.windows(kind)
        stale_ttl = max(stale_ttl, keep_until - self.cache.clock())
        payload = adapter.dump_json(value)
        value = _immutable(value)
        stored = await self.cache.store(
            agency, kind, subject, payload, value=value,
            fresh_ttl=fresh_ttl, stale_ttl=stale_ttl,
        )  # fmt: skip
        fresh_until = _utc(stored.fresh_until)
        return Fetched(value, Source(agency, _utc(stored.fetched_at), fresh_until=fresh_until))

    def _due_for_refresh(self, entry: CacheEntry, now: float, kind: str) -> bool:
        ahead = self.policy.refresh_ahead * self.policy.windows(kind)[0]
        return not entry.not_found and entry.fresh_until - now < ahead

    def _decode(self, entry: CacheEntry, adapter: TypeAdapter[T], kind: str) -> Any:
        """The entry's value; an entry that no longer fits the model (written by another
        version of the gateway, or damaged) is a miss, not an error."""
        if entry.not_found:
            return None
        if entry.value is not UNDECODED:
            return entry.value  # kept as an object in this process: no validation again
        try:
            return _immutable(adapter.validate_json(entry.payload))
        except ValidationError:
            log.warning(
                "undecodable cache entry for %s/%s; treated as a miss", self.agency_id, kind
            )
            return _UNDECODABLE

    def _answer(
        self, entry: CacheEntry, value: Any, *, stale: bool, failure: AgencyError | None = None
    ) -> Fetched[Any]:
        if entry.not_found:
            message = f"{self.agency_id} holds no such record"
            raise AgencyNotFound(self.agency_id, message, source=self._source(entry, stale=False))
        return Fetched(value, self._source(entry, stale=stale, failure=failure))

    def _source(
        self, entry: CacheEntry, *, stale: bool, failure: AgencyError | None = None
    ) -> Source:
        fetched_at, fresh_until = _utc(entry.fetched_at), _utc(entry.fresh_until)
        return Source(self.agency_id, fetched_at, stale, fresh_until, failure)


def _immutable(value: T) -> T:
    """A list as a tuple: the value is shared by every hit and must not change under them."""
    return tuple(value) if isinstance(value, list) else value  # type: ignore[return-value]


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)
