"""The prober over a scripted transport, an injected clock and sleep: no sockets, no waiting.

What is real: the connectors (their probe path and answer check), the probe's classification,
the in-memory cache holding leases and results, the health book judging each tick (in memory),
the metrics, the breaker. What is scripted: the agencies' answers (the transport).
"""

from __future__ import annotations

import asyncio
import email.utils
from typing import Any

import pytest

from cache.memory import MemoryCache
from cache.store import CacheStore
from connectors.agencies.post import PostConnector
from connectors.agencies.water import WaterConnector
from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.breaker import BreakerPolicy, CircuitState
from connectors.pipeline.policy import AgencyPolicy
from connectors.pipeline.transport import TransportRequest, TransportResponse
from domain.errors import AgencyTimeout, AgencyUnavailable
from observability.agency_health.book import AgencyHealthBook
from observability.agency_health.memory_store import MemoryHealthStore
from observability.agency_health.model import AgencyState
from observability.metrics import Metrics
from observability.probe_settings import ProbeSettings
from observability.probes import Prober
from tests.support.scripted_transport import Clock, ScriptedTransport, json_response

HEALTHY = json_response({"status": "ok"})
SETTINGS = ProbeSettings(interval_s=15.0, timeout_s=2.0)
EAGER_BREAKER = AgencyPolicy(breaker=BreakerPolicy(min_calls=1, probe_calls=2, open_jitter=0))
"""One failure would open it, two successes close it: a probe counted by it would show."""


def healthy(request: TransportRequest) -> TransportResponse:
    return HEALTHY


class Ticks:
    """The prober's sleep: moves the clock by each wait, and holds it after `count` waits."""

    def __init__(self, clock: Clock, count: int) -> None:
        self.clock = clock
        self.count = count
        self.waits: list[float] = []
        self.done = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)
        if len(self.waits) >= self.count:
            self.done.set()
            await asyncio.Event().wait()
        await asyncio.sleep(0)


class Rig:
    """Two connectors (post, water) over one scripted transport, and a prober over them with
    a health book (its store shared like the cache when `health_store` is given)."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        shared: MemoryCache | None = None,
        health_store: MemoryHealthStore | None = None,
        **prober: Any,
    ) -> None:
        self.clock = clock or Clock()
        self.metrics = Metrics()
        self.transport = ScriptedTransport()
        self.shared = shared if shared is not None else MemoryCache(clock=self.clock)
        self.health = AgencyHealthBook(
            ["post", "water"],
            health_store if health_store is not None else MemoryHealthStore(clock=self.clock),
            metrics=self.metrics,
            clock=self.clock,
        )
        store = CacheStore(self.shared, key_secret=b"k", metrics=self.metrics)
        self.connectors: list[AgencyConnector] = [
            cls(
                base_url=f"http://{cls.agency_id}.test",
                transport=self.transport,
                cache=store,
                metrics=self.metrics,
                policy=EAGER_BREAKER,
                clock=self.clock,
            )
            for cls in (PostConnector, WaterConnector)
        ]
        self.prober = Prober(
            self.connectors,
            prober.pop("settings", SETTINGS),
            shared=self.shared,
            metrics=self.metrics,
            health=self.health,
            clock=self.clock,
            wall=self.clock,
            **prober,
        )

    async def tick(self) -> None:
        """One tick of the next interval (the previous one's leases have expired)."""
        self.clock.advance(SETTINGS.interval_s)
        await self.prober.tick()

    def sample(self, name: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, labels)

    def up(self, agency: str) -> float | None:
        return self.sample("panjereh_agency_up", agency=agency)


async def test_each_agency_is_probed_once_every_interval() -> None:
    clock = Clock()
    ticks = Ticks(clock, count=3)
    rig = Rig(clock=clock, sleep=ticks)
    rig.transport.add(*[healthy] * 6)
    await rig.prober.start()
    await asyncio.wait_for(ticks.done.wait(), 5)
    await rig.prober.stop()

    assert ticks.waits == [15.0, 15.0, 15.0]  # a fixed cadence: the ticks took no time
    urls = [request.url for request in rig.transport.sent]
    assert sorted(urls) == sorted(["http://post.test/health", "http://water.test/health"] * 3)
    assert all(r.method == "GET" and r.timeout == 2.0 for r in rig.transport.sent)
    assert all(r.params is None and r.json is None for r in rig.transport.sent)  # no identity
    for agency in ("post", "water"):
        assert rig.sample("panjereh_agency_probes_total", agency=agency, outcome="ok") == 3


async def test_a_slow_tick_is_followed_at_once_not_after_a_whole_interval() -> None:
    clock = Clock()
    ticks = Ticks(clock, count=2)
    rig = Rig(clock=clock, sleep=ticks)

    def slow(request: TransportRequest) -> TransportResponse:
        clock.advance(20.0)  # longer than the interval
        return HEALTHY

    rig.transport.add(slow, healthy, healthy, healthy)
    await rig.prober.start()
    await asyncio.wait_for(ticks.done.wait(), 5)
    await rig.prober.stop()
    assert ticks.waits == [0.0, 15.0]


async def test_stop_leaves_no_task_running() -> None:
    rig = Rig()
    rig.transport.add(*[healthy] * 100)
    await rig.prober.start()
    await asyncio.sleep(0)
    await rig.prober.stop()
    assert all(task.get_name() != "agency-prober" for task in asyncio.all_tasks())


IN_TEN_MINUTES = email.utils.formatdate(Clock()() + 15 * 3 + 600, usegmt=True)
"""An HTTP date ten minutes after the rig's third tick (its wall clock is its clock)."""


@pytest.mark.parametrize(
    ("answer", "outcome", "up", "announced"),
    [
        (HEALTHY, "ok", 1, 0),
        (AgencyUnavailable("post", "refused", transient=True), "unavailable", 0, 0),
        (AgencyTimeout("post", "no answer", transient=True), "timeout", 0, 0),
        (TransportResponse(500, {}, b"boom"), "unavailable", 0, 0),
        (TransportResponse(503, {}, b"proxy"), "unavailable", 0, 0),
        (TransportResponse(200, {}, b'{"status": '), "bad_response", 0, 0),
        (json_response({"status": {"value": "ok"}}), "bad_response", 0, 0),
        (TransportResponse(404, {}, b"no such path"), "bad_response", 0, 0),
        (TransportResponse(503, {"Retry-After": "600"}, b"<html>"), "maintenance", 0, 1),
        (TransportResponse(503, {"Retry-After": IN_TEN_MINUTES}), "maintenance", 0, 1),
    ],
)
async def test_a_probe_sets_up_and_maintenance(
    answer: Any, outcome: str, up: int, announced: int
) -> None:
    """Two probes running with no answer are DOWN; a 503 with Retry-After (a delay or an HTTP
    date) is the agency's own maintenance, not a planned one."""
    rig = Rig()
    rig.transport.add(healthy, healthy)  # both up first: the answer must move the gauge
    await rig.tick()
    assert rig.up("post") == 1
    rig.transport.add(answer, healthy, answer, healthy)
    await rig.tick()
    await rig.tick()

    assert rig.up("post") == up
    assert rig.sample("panjereh_agency_maintenance", agency="post") == 0
    assert rig.sample("panjereh_agency_announced_maintenance", agency="post") == announced
    assert rig.sample("panjereh_agency_probe_success", agency="post") == (outcome == "ok")
    assert rig.sample("panjereh_agency_probe_duration_seconds", agency="post") is not None
    assert rig.sample("panjereh_agency_probes_total", agency="post", outcome=outcome) >= 1
    assert rig.up("water") == 1
    if announced:
        window = (await rig.health.snapshot("post")).maintenance
        assert window is not None and window.origin == "agency"
        assert window.ends_at == pytest.approx(rig.clock() + 600)


async def test_a_rate_limited_probe_is_a_failed_probe_of_an_agency_that_answers() -> None:
    """A 429 is a failed probe, but the agency answered: DEGRADED (twice running), never
    DOWN, whether or not calls get through meanwhile."""
    rig = Rig()
    rig.transport.add(healthy, healthy)
    await rig.tick()
    for _ in range(3):
        rig.transport.add(TransportResponse(429, {}, b"slow down"), healthy)
        await rig.tick()
    assert rig.up("post") == 1
    assert (await rig.health.snapshot("post")).state is AgencyState.DEGRADED
    assert rig.sample("panjereh_agency_probe_success", agency="post") == 0


async def test_probes_are_not_retried_and_not_user_traffic() -> None:
    rig = Rig()
    transient = TransportResponse(503, {}, b"busy")
    rig.transport.add(transient, transient)
    await rig.tick()
    assert len(rig.transport.sent) == 2  # one per agency: a transient 503 is not retried
    assert rig.sample("panjereh_agency_retries_total", agency="post") in (None, 0)
    requests = [
        s for f in rig.metrics.registry.collect() if f.name == "panjereh_agency_requests"
        for s in f.samples
    ]  # fmt: skip
    assert requests == []


async def test_probes_neither_trip_nor_reset_the_breaker() -> None:
    rig = Rig()
    post = rig.connectors[0]
    failed = AgencyUnavailable("post", "refused", transient=True)
    rig.transport.add(failed, healthy, failed, healthy)
    await rig.tick()
    await rig.tick()
    assert post.breaker.state is CircuitState.CLOSED  # min_calls=1: one counted failure opens

    post.breaker.record(False)  # a real call failed: the circuit opens
    assert post.breaker.state is CircuitState.OPEN
    rig.clock.advance(post.policy.breaker.open_s + 1)
    assert post.breaker.state is CircuitState.HALF_OPEN
    rig.transport.add(*[healthy] * 4)
    await rig.tick()
    await rig.tick()
    assert post.breaker.state is CircuitState.HALF_OPEN  # two counted successes would close it


async def test_instances_sharing_a_cache_probe_once_per_interval_and_agree() -> None:
    clock = Clock()
    shared, fleet = MemoryCache(clock=clock), MemoryHealthStore(clock=clock)
    first = Rig(clock=clock, shared=shared, health_store=fleet)
    second = Rig(clock=clock, shared=shared, health_store=fleet)
    first.transport.add(healthy, TransportResponse(503, {}, b"down"))
    await first.prober.tick()
    await second.prober.tick()
    assert len(second.transport.sent) == 0  # the leases were taken: it read the results
    for rig in (first, second):
        assert (rig.up("post"), rig.up("water")) == (1, 0)
    assert second.sample("panjereh_agency_probes_total", agency="post", outcome="ok") is None

    clock.advance(SETTINGS.interval_s)  # the next interval: the second ticks first this time
    second.transport.add(healthy, healthy)
    await second.prober.tick()
    await first.prober.tick()
    assert len(first.transport.sent) == 2 and len(second.transport.sent) == 2
    for rig in (first, second):
        assert (rig.up("post"), rig.up("water")) == (1, 1)


async def test_stop_during_a_tick_lets_it_finish_and_its_samples_reach_the_book() -> None:
    """At shutdown the tick under way ends whole: cut off in the middle, the health book's
    write of what it had buffered (the probe's sample, the calls since) would be lost."""
    clock = Clock()
    rig = Rig(clock=clock, sleep=Ticks(clock, count=10))
    held, release = asyncio.Event(), asyncio.Event()

    async def slow(request: TransportRequest) -> TransportResponse:
        held.set()
        await release.wait()
        return HEALTHY

    rig.transport.add(healthy, healthy, slow, healthy)  # the first tick, then one held
    await rig.prober.start()
    await asyncio.wait_for(held.wait(), 5)
    stopping = asyncio.create_task(rig.prober.stop())
    await asyncio.sleep(0.01)
    assert not stopping.done()  # waits for the tick, does not cut it
    release.set()
    await asyncio.wait_for(stopping, 5)

    for agency in ("post", "water"):
        assert rig.sample("panjereh_agency_probes_total", agency=agency, outcome="ok") == 2
    minutes = await rig.health.store.minutes("post", range(int(clock() // 60) + 2))
    assert sum(tally.ok for tally in minutes.values()) == 2  # both ticks' samples written
    assert all(task.get_name() != "agency-prober" for task in asyncio.all_tasks())
