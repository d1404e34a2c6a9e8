"""The cache side of the pipeline for one agency: every `@operation` call goes through here.

    fresh entry ─────────────▶ answer it (near expiry: also refresh in the background)
    otherwise ─▶ local singleflight ─▶ cross-instance lease (cache `add`)
                   holder: load from the agency ─▶ store fresh + stale windows
                   others: wait for the holder's fill, else load themselves
    agency failed ─▶ the stale entry, marked stale, while its stale window lasts
    agency said "not found" ─▶ a short negative entry

State here (in-flight futures, background refresh tasks) is per process; what crosses processes
goes through the cache backend only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from xml.etree.ElementTree import ParseError

from pydantic import TypeAdapter

from cache.store import CacheEntry, CacheStore
from connectors.deadline import Deadline, current_deadline, set_deadline
from connectors.policy import AgencyPolicy
from domain.errors import AgencyBadResponse, AgencyNotFound, AgencyUnavailable
from domain.sourced import Fetched, Source
from observability.metrics import Metrics

__all__ = ["OperationRunner"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_FILL_POLL_S = 0.02


class OperationRunner:
    """Cache, singleflight, stale-while-revalidate and stale-if-error for one agency."""

    def __init__(
        self, agency_id: str, policy: AgencyPolicy, cache: CacheStore, metrics: Metrics
    ) -> None:
        self.agency_id = agency_id
        self.policy = policy
        self.cache = cache
        self.metrics = metrics
        self._in_flight: dict[tuple[str, str], asyncio.Future[Any]] = {}
        self._background: set[asyncio.Task[Any]] = set()

    async def run(
        self,
        kind: str,
        subject: str,
        load: Callable[[], Awaitable[T]],
        adapter: TypeAdapter[T],
    ) -> Fetched[T]:
        entry = await self.cache.lookup(self.agency_id, kind, subject)
        now = self.cache.clock()
        if entry is not None and entry.is_fresh(now):
            if self._due_for_refresh(entry, now):
                self._refresh_in_background(kind, subject, load, adapter, entry)
            return self._from_entry(entry, adapter, stale=False)
        return await self._single_flight(
            (kind, subject), lambda: self._load(kind, subject, load, adapter, entry)
        )

    async def close(self) -> None:
        """Cancel background refreshes; called when the app shuts down."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _single_flight(
        self, key: tuple[str, str], make: Callable[[], Awaitable[Fetched[T]]]
    ) -> Fetched[T]:
        pending = self._in_flight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Fetched[T]] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            result = await make()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: there may be no other waiter
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._in_flight[key]

    async def _load(
        self,
        kind: str,
        subject: str,
        load: Callable[[], Awaitable[T]],
        adapter: TypeAdapter[T],
        entry: CacheEntry | None,
    ) -> Fetched[T]:
        lease_s = self.policy.timeout * self.policy.max_attempts + 1.0
        leased = await self.cache.acquire_lease(self.agency_id, kind, subject, lease_s)
        if not leased:
            newer_than = entry.fetched_at if entry else 0.0
            filled = await self._wait_for_fill(kind, subject, newer_than, lease_s)
            if filled is not None:
                return self._from_entry(filled, adapter, stale=False)
        try:
            return await self._fetch_and_store(kind, subject, load, adapter, entry)
        finally:
            if leased:
                await self.cache.release_lease(self.agency_id, kind, subject)

    async def _wait_for_fill(
        self, kind: str, subject: str, newer_than: float, lease_s: float
    ) -> CacheEntry | None:
        """Another instance holds the lease: wait for what it stores, but leave enough of the
        deadline for one attempt of our own in case the holder never fills it."""
        deadline = current_deadline()
        wait = lease_s
        if deadline is not None:
            wait = min(wait, deadline.remaining() - self.policy.timeout)
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
        load: Callable[[], Awaitable[T]],
        adapter: TypeAdapter[T],
        entry: CacheEntry | None,
    ) -> Fetched[T]:
        policy, agency = self.policy, self.agency_id
        try:
            try:
                value = await load()
            except (ValueError, ParseError) as exc:  # the mapping found the answer inconsistent
                raise AgencyBadResponse(
                    agency, f"{agency} answered with inconsistent data"
                ) from exc
        except AgencyNotFound:
            await self.cache.store(
                agency, kind, subject, b"", not_found=True,
                fresh_ttl=policy.not_found_ttl, stale_ttl=policy.not_found_ttl,
            )  # fmt: skip
            raise
        except (AgencyUnavailable, AgencyBadResponse):
            if entry is None or entry.not_found:
                raise
            self.metrics.stale_served.labels(agency).inc()
            log.info("serving stale %s/%s after an agency failure", agency, kind)
            return self._from_entry(entry, adapter, stale=True)
        stored = await self.cache.store(
            agency, kind, subject, adapter.dump_json(value),
            fresh_ttl=policy.fresh_ttl, stale_ttl=policy.stale_ttl,
        )  # fmt: skip
        return Fetched(value, Source(agency, _utc(stored.fetched_at)))

    def _due_for_refresh(self, entry: CacheEntry, now: float) -> bool:
        ahead = self.policy.refresh_ahead * self.policy.fresh_ttl
        return not entry.not_found and entry.fresh_until - now < ahead

    def _refresh_in_background(
        self,
        kind: str,
        subject: str,
        load: Callable[[], Awaitable[T]],
        adapter: TypeAdapter[T],
        entry: CacheEntry,
    ) -> None:
        key = (kind, subject)
        if key in self._in_flight:
            return

        async def refresh() -> None:
            # The request that noticed may finish first; the refresh gets its own deadline.
            set_deadline(Deadline.after(self.policy.timeout * self.policy.max_attempts))
            try:
                await self._single_flight(
                    key, lambda: self._load(kind, subject, load, adapter, entry)
                )
            except (AgencyUnavailable, AgencyBadResponse, AgencyNotFound) as exc:
                log.info("background refresh of %s/%s failed: %s", self.agency_id, kind,
                         type(exc).__name__)  # fmt: skip

        task = asyncio.get_running_loop().create_task(refresh())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _from_entry(self, entry: CacheEntry, adapter: TypeAdapter[T], *, stale: bool) -> Fetched[T]:
        if entry.not_found:
            raise AgencyNotFound(self.agency_id, f"{self.agency_id} holds no such record")
        value = adapter.validate_json(entry.payload)
        return Fetched(value, Source(self.agency_id, _utc(entry.fetched_at), stale=stale))


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)
