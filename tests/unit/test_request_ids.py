"""The request id reaches the agencies as `X-Request-Id`, carried by the request's deadline.

A real connector over a scripted transport (the thing replaced), with an injected clock: the
loaders, the operation (cache, single flight), the retry loop and the probe are the real ones.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cache.memory import MemoryCache
from cache.store import CacheStore
from connectors.agencies.post import PostConnector
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.pipeline.probe import probe
from connectors.pipeline.transport import TransportRequest, TransportResponse
from observability.metrics import Metrics
from observability.request_ids import accepted_request_id, probe_request_id
from resolvers.loaders import RequestLoaders
from tests.support.scripted_transport import Clock, ScriptedTransport, json_response

CODE = "0012345679"
OK = json_response(
    {"postalCode": "۱۴۳۳۶۵۴۳۹۱", "province": "تهران", "city": "تهران",
     "street": "خیابان آزادی", "plaque": "۱۲"}
)  # fmt: skip


class Rig:
    """The post connector over a scripted transport; time moves only when told."""

    def __init__(self, **policy: Any) -> None:
        self.clock = Clock()
        self.transport = ScriptedTransport()
        metrics = Metrics()
        store = CacheStore(MemoryCache(), key_secret=b"k", metrics=metrics)
        self.connector = PostConnector(
            base_url="http://post.invalid",
            transport=self.transport,
            cache=store,
            metrics=metrics,
            policy=AgencyPolicy(backoff_initial=0.0, backoff_max=0.0).replace(**policy),
            sleep=self._sleep,
            clock=self.clock,
        )

    async def _sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def deadline(self, request_id: str | None, seconds: float = 5.0) -> Deadline:
        return Deadline.after(seconds, clock=self.clock, request_id=request_id)

    def ids_sent(self) -> list[str | None]:
        return [(r.headers or {}).get("X-Request-Id") for r in self.transport.sent]


async def test_a_requests_loaders_send_its_id_with_every_attempt() -> None:
    rig = Rig()
    rig.transport.add(TransportResponse(503), OK)
    loaders = RequestLoaders().for_deadline(rig.deadline("abc-123"))
    fetched = await loaders.load(rig.connector.fetch_address, CODE)
    assert fetched.value.postal_code == "1433654391"
    assert rig.ids_sent() == ["abc-123", "abc-123"]  # the retry says it is the same request


@pytest.mark.parametrize(
    "unsafe",
    ["0012345679", "00-12-34-56", "abc 123", "x" * 65, "abc\r\nX-Admin: 1", "", "شناسه"],
)
async def test_an_id_that_fails_the_rule_is_never_sent(unsafe: str) -> None:
    rig = Rig()
    rig.transport.add(OK)
    await rig.connector.fetch_address(CODE, deadline=rig.deadline(unsafe))
    assert rig.ids_sent() == [None]


async def test_a_call_without_a_request_sends_no_id() -> None:
    rig = Rig()
    rig.transport.add(OK)
    await rig.connector.fetch_address(CODE)
    assert rig.transport.sent[0].headers is None


async def test_a_joined_flight_carries_the_id_of_the_request_that_started_it() -> None:
    rig = Rig()
    release = asyncio.Event()

    async def held(request: TransportRequest) -> TransportResponse:
        await release.wait()
        return OK

    rig.transport.add(held)
    first = asyncio.create_task(rig.connector.fetch_address(CODE, deadline=rig.deadline("one")))
    await asyncio.sleep(0)
    second = asyncio.create_task(rig.connector.fetch_address(CODE, deadline=rig.deadline("two")))
    await asyncio.sleep(0)
    release.set()
    answers = await asyncio.gather(first, second)
    assert answers[0].value == answers[1].value
    assert rig.ids_sent() == ["one"]  # one call for both, as the operations docstring says


async def test_a_background_refresh_carries_the_id_of_the_request_it_was_due_on() -> None:
    rig = Rig(fresh_ttl=100, stale_ttl=1000, refresh_ahead=0.2)
    store_clock = Clock(now=50_000.0)
    rig.connector.cache.clock = store_clock
    rig.transport.add(OK, OK)
    await rig.connector.fetch_address(CODE, deadline=rig.deadline("filled"))
    store_clock.advance(90)  # within the last fifth of the fresh window: a hit starts a refresh
    await rig.connector.fetch_address(CODE, deadline=rig.deadline("hit", seconds=0.3))
    for _ in range(5):
        await asyncio.sleep(0)  # let the refresh run
    assert rig.ids_sent() == ["filled", "hit"]
    assert rig.transport.sent[1].timeout == rig.connector.policy.timeout  # not the hit's 0.3 s


async def test_each_probe_sends_an_id_of_its_own() -> None:
    rig = Rig()
    rig.transport.add(json_response({"status": "ok"}), json_response({"status": "ok"}))
    first = await probe(rig.connector, 2.0, clock=rig.clock, wall=rig.clock)
    await probe(rig.connector, 2.0, clock=rig.clock, wall=rig.clock)
    assert first.success
    ids = rig.ids_sent()
    assert all(i is not None and i.startswith("probe-post-") for i in ids), ids
    assert all(accepted_request_id(i) == i for i in ids)
    assert ids[0] != ids[1]


def test_probe_ids_pass_the_rule_for_every_agency_name() -> None:
    for agency in ("civil-registry", "licensing-portal", "land-registry", "shahkar"):
        for _ in range(200):  # the random part is hex: a digit run must never get through
            made = probe_request_id(agency)
            assert made.startswith(f"probe-{agency}-") and accepted_request_id(made) == made
