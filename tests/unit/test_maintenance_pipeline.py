"""A real connector in and around maintenance, through a scripted transport: no sockets, no sleeps.

The calendar, the cache and the connector share one wall clock the test moves; the transport
(the thing replaced) fails the test on any request it was not scripted for, so "not called" is
checked by the script running dry as much as by counting what was sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from cache.memory import MemoryCache
from cache.store import CacheStore
from connectors.agencies.water import WaterConnector
from connectors.pipeline.breaker import BreakerPolicy, CircuitState
from connectors.pipeline.policy import AgencyPolicy
from connectors.pipeline.recent import RecentLimits
from connectors.pipeline.transport import TransportResponse
from connectors.registry import AGENCY_IDS
from domain.errors import AgencyInMaintenance
from domain.jalali import TEHRAN
from observability.maintenance import MaintenanceCalendar, MaintenanceSettings
from observability.metrics import Metrics
from schema.error_codes import error_extensions
from tests.support.scripted_transport import Clock, ScriptedTransport, json_response

CODE = "0012345679"
WATER = {
    "bills": [
        {"subscriptionNo": "S1", "billId": "1234567001", "paymentId": "12340123",
         "amount": 100, "dueDate": "1403/07/20"},
    ]
}  # fmt: skip
POLICY = AgencyPolicy(
    timeout=2.0,
    max_attempts=3,
    backoff_initial=0.1,
    backoff_max=0.4,
    max_retry_after=2.0,
    fresh_ttl=300,
    stale_ttl=6 * 3600,
    breaker=BreakerPolicy(min_calls=1, failure_rate=0.5, window_s=60),
)


def tehran(*args: int) -> float:
    return dt.datetime(*args, tzinfo=TEHRAN).timestamp()


class Sleep:
    """The retry loop's sleep: moves both clocks by each wait."""

    def __init__(self, *clocks: Clock) -> None:
        self.clocks = clocks
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        for clock in self.clocks:
            clock.advance(seconds)


class Rig:
    """The water connector with a calendar (nightly 00:00-02:00 Tehran), at `now`."""

    def __init__(self, now: float, policy: AgencyPolicy = POLICY) -> None:
        self.wall = Clock(now)
        self.clock = Clock()
        self.metrics = Metrics()
        self.transport = ScriptedTransport()
        settings = MaintenanceSettings(nightly={"water": "00:00-02:00"})
        self.calendar = MaintenanceCalendar(AGENCY_IDS, nightly=settings.nightly, clock=self.wall)
        store = CacheStore(
            MemoryCache(clock=self.wall), key_secret=b"k", metrics=self.metrics, clock=self.wall
        )
        self.connector = WaterConnector(
            base_url="http://water.invalid",
            transport=self.transport,
            cache=store,
            metrics=self.metrics,
            policy=policy,
            sleep=Sleep(self.clock, self.wall),
            clock=self.clock,
            maintenance=self.calendar,
            recent=RecentLimits(),
        )

    async def bills(self, code: str = CODE) -> Any:
        return await self.connector.fetch_bills(code)

    def count(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, {"agency": "water", **labels})
        return value or 0.0


async def test_in_a_window_the_agency_is_not_called_and_the_error_says_when_it_is_back() -> None:
    rig = Rig(tehran(2024, 10, 7, 0, 30))
    with pytest.raises(AgencyInMaintenance) as refused:
        await rig.bills()
    assert rig.transport.sent == []
    exc = refused.value
    assert exc.back_at == tehran(2024, 10, 7, 2, 0)
    assert exc.retry_after == 90 * 60
    assert error_extensions(exc) == {
        "code": "AGENCY_MAINTENANCE",
        "retryable": True,
        "agency": "water",
        "agencyNameFa": "آب و فاضلاب",
        "agencyNameEn": "Water and Wastewater",
        "expectedBackAt": "2024-10-07T02:00:00+03:30",
        "retryAfterSeconds": 5400,
        "messageFa": "سامانه آب و فاضلاب تا ۱۴۰۳/۰۷/۱۶ ساعت ۰۲:۰۰ در دست تعمیر است",
    }
    assert "02:00 Tehran time on 1403/07/16" in exc.message
    assert rig.count("panjereh_agency_requests_total", outcome="maintenance") == 1
    # The connector's own read (below the cache) is refused too, before the breaker.
    with pytest.raises(AgencyInMaintenance):
        await rig.connector.fetch_bills.__wrapped__(rig.connector, CODE, deadline=None)
    assert rig.transport.sent == []
    assert rig.connector.breaker.state is CircuitState.CLOSED


async def test_in_a_window_a_cached_copy_is_served_marked_stale() -> None:
    rig = Rig(tehran(2024, 10, 6, 23, 0))
    rig.transport.add(json_response(WATER))
    fresh = await rig.bills()
    rig.wall.now = tehran(2024, 10, 7, 1, 0)  # in the window, the copy an hour past fresh
    stale = await rig.bills()
    assert len(rig.transport.sent) == 1
    assert stale.value == fresh.value
    assert stale.source.stale is True and stale.source.fetched_at == fresh.source.fetched_at
    assert rig.count("panjereh_stale_served_total") == 1
    rig.wall.now = tehran(2024, 10, 7, 2, 0)  # back: called again
    rig.transport.add(json_response(WATER))
    assert (await rig.bills()).source.stale is False
    assert len(rig.transport.sent) == 2


async def test_a_fresh_copy_near_expiry_is_not_refreshed_in_a_window() -> None:
    rig = Rig(tehran(2024, 10, 7, 0, 56))
    rig.calendar.nightly.clear()  # this test's window is set by ops instead
    rig.transport.add(json_response(WATER))
    await rig.bills()
    await rig.calendar.add_window("water", rig.wall.now + 60, rig.wall.now + 3600, "upgrade")
    rig.wall.now += 290  # in the ops window, in the last 20 % of the fresh window
    answer = await rig.bills()
    await asyncio.sleep(0)  # a background refresh would have started by now
    assert answer.source.stale is False
    assert len(rig.transport.sent) == 1 and not rig.connector.operations._flights


async def test_a_503_with_retry_after_is_maintenance_until_then() -> None:
    rig = Rig(tehran(2024, 10, 7, 12, 0))
    rig.transport.add(TransportResponse(503, {"Retry-After": "600"}, b"<html>"))
    with pytest.raises(AgencyInMaintenance) as said:
        await rig.bills()
    assert said.value.back_at == rig.wall.now + 600
    assert error_extensions(said.value)["retryAfterSeconds"] == 600
    assert rig.count("panjereh_agency_requests_total", outcome="maintenance") == 1
    assert rig.connector.breaker.state is CircuitState.CLOSED  # planned: no verdict
    rig.wall.now += 300
    with pytest.raises(AgencyInMaintenance) as again:  # not asked again before it said
        await rig.bills()
    assert again.value.back_at == said.value.back_at and len(rig.transport.sent) == 1
    assert again.value.retry_after == 300
    rig.wall.now += 301
    rig.transport.add(json_response(WATER))
    assert (await rig.bills()).source.stale is False
    assert len(rig.transport.sent) == 2


async def test_a_short_retry_after_is_waited_for_within_the_call() -> None:
    rig = Rig(tehran(2024, 10, 7, 12, 0))
    rig.transport.add(TransportResponse(503, {"Retry-After": "1"}), json_response(WATER))
    answer = await rig.bills()
    assert answer.source.stale is False and len(rig.transport.sent) == 2
    assert rig.connector.maintenance_refusal() is None


async def test_a_retry_that_would_fall_in_a_window_is_not_sent() -> None:
    rig = Rig(tehran(2024, 10, 6, 23, 59, 59, 500_000), POLICY.replace(breaker=BreakerPolicy()))
    rig.transport.add(TransportResponse(502, {"Retry-After": "1"}))  # retried in a second ...
    with pytest.raises(AgencyInMaintenance):  # ... by which time the window has begun
        await rig.bills()
    assert len(rig.transport.sent) == 1 and rig.connector._sleep.waits == [1.0]
    assert rig.count("panjereh_agency_requests_total", outcome="maintenance") == 1
