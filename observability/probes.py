"""The prober: every agency is asked "are you there?" on an interval, with or without traffic.

One job: schedule, lease, probe, publish. On each tick, for every agency at once:

    lease  `<ns>:probe:<agency>:lease` (cache `add`, lives 0.8 interval) ─ taken? ─┐
      yes: probe (connectors.pipeline.probe) → count it → publish `<ns>:probe:<agency>`
           → the health book judges the agency (`evaluate`: the state machine, for the fleet)
      no:  another instance probed this interval: read what it published
           → the health book reads the fleet's state (`refresh`)
    then set this instance's probe gauges from the newest result it has

With several instances on one Redis the lease makes one of them probe (and judge) each agency
per interval and every instance reports the same state; on the embedded default (the in-memory
cache) the one instance takes every lease. If the cache cannot answer, the instance probes for
itself: that costs probe calls, never the signal.

What a result sets here: `agency_probe_success` and `agency_probe_duration_seconds`; the
instance that probed counts it in `agency_probes_total`. `agency_up`, `agency_state` and
`agency_maintenance` follow the fleet's state and are set by the health book
(`observability.agency_health`). Probes are never in `agency_requests_total`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from cache.backend import CacheBackend
from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.probe import ProbeResult, probe
from observability.agency_health.book import AgencyHealthBook
from observability.metrics import Metrics
from observability.probe_settings import ProbeSettings

__all__ = ["Prober"]

log = logging.getLogger(__name__)

_LEASE_SHARE = 0.8  # a lease ends before the next tick, so an instance's own tick finds it free
_KEEP_INTERVALS = 3  # a published result outlives its interval, for instances that tick late


class Prober:
    """Probes `connectors` every `settings.interval_s`, sharing leases and results in `shared`,
    and has `health` (when given) judge or read each agency's state every tick.

    `clock` (monotonic s), `wall` (unix s) and `sleep` are injectable: unit tests move time.
    """

    def __init__(
        self,
        connectors: Iterable[AgencyConnector],
        settings: ProbeSettings,
        *,
        shared: CacheBackend,
        metrics: Metrics,
        health: AgencyHealthBook | None = None,
        namespace: str = "panjereh",
        op_timeout: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.connectors = list(connectors)
        self.settings = settings
        self._shared = shared
        self._metrics = metrics
        self._health = health
        self._namespace = namespace
        self._op_timeout = op_timeout
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self.latest: dict[str, ProbeResult] = {}
        """The newest result applied per agency (own or another instance's)."""
        self._task: asyncio.Task[None] | None = None
        self._ticking = False
        self._stopping = False

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Probe every agency once now, so its state is known when the gateway starts serving
        (a probe is bounded by `timeout_s`), then every interval in the background."""
        if self._task is None:
            started = self._clock()
            await self.tick()
            first = started + self.settings.interval_s
            self._task = asyncio.create_task(self._every_interval(first), name="agency-prober")

    async def stop(self) -> None:
        """End the ticks and wait for them to end: no probe is left running. A tick under way is
        let finish (each probe is bounded by `timeout_s`, a tick by the interval), so the health
        book is not cut off in the middle of writing what it has buffered; a wait between two
        ticks is cut at once."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if not self._ticking:
            task.cancel()
        try:
            async with asyncio.timeout(self.settings.interval_s):
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(task)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Tick now and every interval after, until cancelled."""
        started = self._clock()
        await self.tick()
        await self._every_interval(started + self.settings.interval_s)

    async def _every_interval(self, next_at: float) -> None:
        """Tick on a fixed cadence from `next_at` (a slow tick is not followed by a drift)."""
        interval = self.settings.interval_s
        while not self._stopping:
            delay = next_at - self._clock()
            if delay < 0:  # a tick outlasted the interval: start again from now
                next_at, delay = self._clock(), 0.0
            await self._sleep(delay)
            self._ticking = True
            try:
                await self.tick()
            finally:
                self._ticking = False
            next_at += interval

    # -- one tick ---------------------------------------------------------------------------

    async def tick(self) -> None:
        """One round over every agency: probe those whose lease this instance takes, read the
        others, then set the gauges."""
        await asyncio.gather(*(self._cycle(connector) for connector in self.connectors))

    async def _cycle(self, connector: AgencyConnector) -> None:
        agency = connector.agency_id
        try:
            if await self._lease(agency):
                result = await probe(
                    connector, self.settings.timeout_s, clock=self._clock, wall=self._wall
                )
                label = "maintenance" if result.maintenance else str(result.outcome)
                self._metrics.agency_probes.labels(agency, label).inc()
                log.debug("probe of %s: %s in %.3f s", agency, label, result.seconds)
                await self._publish(agency, result)
                if self._health is not None:
                    await self._health.evaluate(
                        agency, result.sample(agency), result.at, retry_after=result.retry_after
                    )
            else:
                result = await self._read(agency)
                if self._health is not None:
                    await self._health.refresh([agency])
            if result is not None:
                self._apply(connector, result)
        except Exception:  # one agency's probe must never stop the others or the next tick
            log.exception("probe of %s failed", agency)

    def _apply(self, connector: AgencyConnector, result: ProbeResult) -> None:
        agency = connector.agency_id
        known = self.latest.get(agency)
        if known is not None and known.at > result.at:
            return  # already applied something newer
        self.latest[agency] = result
        m = self._metrics
        m.agency_probe_success.labels(agency).set(int(result.success))
        m.agency_probe_duration.labels(agency).set(result.seconds)

    # -- the shared state -------------------------------------------------------------------

    def _key(self, agency: str) -> str:
        return f"{self._namespace}:probe:{agency}"

    async def _lease(self, agency: str) -> bool:
        """Whether this instance probes `agency` this interval (True too if the cache fails)."""
        ttl = self.settings.interval_s * _LEASE_SHARE
        return await self._guard(
            "add", self._shared.add(self._key(agency) + ":lease", os.urandom(16), ttl), True
        )

    async def _publish(self, agency: str, result: ProbeResult) -> None:
        body = json.dumps(result.to_dict()).encode()
        ttl = self.settings.interval_s * _KEEP_INTERVALS + self.settings.timeout_s
        await self._guard("set", self._shared.set(self._key(agency), body, ttl), None)

    async def _read(self, agency: str) -> ProbeResult | None:
        raw = await self._guard("get", self._shared.get(self._key(agency)), None)
        if raw is None:
            return None
        try:
            return ProbeResult.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable probe result of %s in the cache; ignored", agency)
            return None

    async def _guard(self, op: str, call: Awaitable[Any], failed: Any) -> Any:
        try:
            async with asyncio.timeout(self._op_timeout):
                return await call
        except Exception as exc:  # the cache failing degrades to probing alone, never to an error
            log.warning("probe %s failed on %s: %s", op, self._shared.name, type(exc).__name__)
            return failed
