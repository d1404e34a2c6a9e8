"""An answer the connector cannot map is a failed attempt, over real HTTP.

Before, the mapping ran after the attempt had been recorded: a post answer with a nine-digit
postal code was counted `outcome="ok"`, set `agency_up` to 1 and was a success for the breaker,
while the client saw AGENCY_BAD_RESPONSE. Now it is a `malformed` failure for the health book,
which takes the agency DOWN.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from cache.memory import MemoryCache
from cache.store import CacheStore
from connectors.agencies.post import PostConnector
from connectors.pipeline.breaker import CircuitState
from connectors.pipeline.transport import AioHttpTransport
from domain.errors import AgencyBadResponse, CircuitOpen
from observability.agency_health.book import AgencyHealthBook
from observability.agency_health.memory_store import MemoryHealthStore
from observability.agency_health.model import Failure
from observability.agency_health.tally import Tally
from observability.metrics import Metrics
from sandbox import PERSONAS, FaultSpec
from server import HEALTH_BOOK, METRICS
from tests.support.gateway import running_gateway

COMPLETE = PERSONAS["complete"]
NINE_DIGITS = "۱۴۳۳۶۵۴۳۲"


@pytest.fixture
async def wrong_post() -> AsyncIterator[str]:
    """The post's documented endpoint on loopback, answering a well-formed record whose postal
    code has nine digits."""

    async def address(request: web.Request) -> web.Response:
        return web.json_response(
            {"postalCode": NINE_DIGITS, "province": "تهران", "city": "تهران",
             "street": "خیابان آزادی", "plaque": "۱۲"}
        )  # fmt: skip

    app = web.Application()
    app.router.add_get("/v2/residents/{code}/address", address)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, {"agency": "post", **labels})


async def test_a_value_that_does_not_map_is_a_bad_response_for_metrics_and_breaker(
    wrong_post: str,
) -> None:
    metrics = Metrics()
    policy = PostConnector.policy.with_overrides({"breaker": {"min_calls": 3}})
    health = AgencyHealthBook(["post"], MemoryHealthStore())
    async with aiohttp.ClientSession() as session:
        post = PostConnector(
            base_url=wrong_post,
            transport=AioHttpTransport(session),
            cache=CacheStore(MemoryCache(), key_secret=b"k", metrics=metrics),
            metrics=metrics,
            policy=policy,
            health=health,
        )
        for _ in range(3):
            with pytest.raises(AgencyBadResponse):
                await post.fetch_address(COMPLETE)
        requests = "panjereh_agency_requests_total"
        assert _sample(metrics, requests, outcome="bad_response") == 3
        assert _sample(metrics, requests, outcome="ok") is None
        await health.flush()
        now = int(time.time() // 60)
        minutes = await health.store.minutes("post", [now - 1, now])
        samples = Tally.total(minutes.values())
        assert (samples.ok, samples.failures) == (0, {Failure.MALFORMED: 3})
        assert post.breaker.state is CircuitState.OPEN  # three failures of three calls
        with pytest.raises(CircuitOpen):
            await post.fetch_address(COMPLETE)


async def test_a_malformed_answer_through_the_gateway_is_counted_bad_response() -> None:
    async with running_gateway(probes={"interval_s": 0.25, "timeout_s": 0.125}) as gw:
        await gw.sandbox.set_fault("post", FaultSpec(mode="malformed"))
        status, body = await gw.query("{ me { address { postalCode } } }", token=gw.token(COMPLETE))
        assert status == 200
        assert body["errors"][0]["extensions"]["code"] == "AGENCY_BAD_RESPONSE"
        metrics = gw.app[METRICS]
        requests = "panjereh_agency_requests_total"
        assert _sample(metrics, requests, outcome="bad_response") == 1
        assert _sample(metrics, requests, outcome="ok") is None
        started = time.monotonic()
        while _sample(metrics, "panjereh_agency_up") != 0:  # the next probe tick judges it
            assert time.monotonic() - started < 5, "post was not judged DOWN"
            await asyncio.sleep(0.02)
        while True:  # each tick DOWN adds its probe's failure to the incident
            [incident] = await gw.app[HEALTH_BOOK].incidents("post", 5)
            assert set(incident.failures) == {Failure.MALFORMED}  # the call's and the probes'
            if incident.failures[Failure.MALFORMED] >= 2:
                break
            assert time.monotonic() - started < 5, incident
            await asyncio.sleep(0.02)
