"""Planned maintenance over real HTTP: the gateway in front of sandbox agencies that keep nightly
windows (Tehran time) and answer 503 with Retry-After in them.

In a window the gateway does not call the agency: the citizen gets the cached copy marked stale,
or an AGENCY_MAINTENANCE error saying when the agency is expected back. `sandbox.calls` counts
what each agency really received (probes apart).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from domain.jalali import TEHRAN
from observability.maintenance import MaintenanceCalendar, NightlyWindow
from sandbox import PERSONAS, FaultSpec
from server import MAINTENANCE, METRICS
from tests.support.gateway import RunningGateway, running_gateway

COMPLETE = PERSONAS["complete"]
QUERY = """{ me {
  profile { firstName source { stale } }
  bills { complete sources {
    agency state source { stale fetchedAt }
    error { code message retryable retryAfterSeconds expectedBackAt }
  } }
} }"""
NO_PROBES = {"enabled": False}  # probes do not reach real calls; left out to keep counts plain


def _window_around_now(minutes: int = 10) -> NightlyWindow:
    """A nightly window (whole minutes, Tehran time) that holds now and for a few minutes."""
    now = dt.datetime.now(TEHRAN)
    start = (now.hour * 60 + now.minute - 1) % 1440
    return NightlyWindow(start, (start + minutes) % 1440)


def _water(body: dict) -> dict:
    return {s["agency"]: s for s in body["data"]["me"]["bills"]["sources"]}["water"]


def _maintenance_calls(gw: RunningGateway, agency: str) -> float:
    labels = {"agency": agency, "outcome": "maintenance"}
    value = gw.app[METRICS].registry.get_sample_value("panjereh_agency_requests_total", labels)
    return value or 0.0


async def test_a_nightly_window_keeps_the_gateway_from_calling_and_says_when_it_is_back() -> None:
    window = _window_around_now()
    nightly = {"water": str(window), "civil-registry": str(window)}
    async with running_gateway(maintenance={"nightly": nightly}, probes=NO_PROBES) as gw:
        for agency, text in nightly.items():  # the agencies keep the same window
            gw.sandbox.set_maintenance_window(agency, text)
        status, body = await gw.query(QUERY, token=gw.token(COMPLETE))
        assert gw.sandbox.calls("water") == 0 and gw.sandbox.calls("civil-registry") == 0
        assert gw.sandbox.calls("electricity") == 1  # the others are called as ever

    assert status == 200
    today = dt.datetime.now(TEHRAN).date()
    starts = [window.occurrence(today + dt.timedelta(days=d)) for d in (-1, 0)]
    back_at = next(end for start, end in starts if start <= time.time() < end)
    expected = dt.datetime.fromtimestamp(back_at, TEHRAN).isoformat()

    water = _water(body)
    assert water["state"] == "UNAVAILABLE" and water["source"] is None
    error = water["error"]
    assert error["code"] == "AGENCY_MAINTENANCE" and error["retryable"] is True
    assert dt.datetime.fromisoformat(error["expectedBackAt"]) == dt.datetime.fromisoformat(expected)
    assert error["expectedBackAt"].endswith("+03:30")
    assert 0 < error["retryAfterSeconds"] <= 10 * 60
    assert f"{expected[11:16]} Tehran time on" in error["message"]

    assert body["data"]["me"]["profile"] is None
    [profile] = [e for e in body["errors"] if e["path"] == ["me", "profile"]]
    assert profile["extensions"]["code"] == "AGENCY_MAINTENANCE"
    assert profile["extensions"]["agency"] == "civil-registry"
    assert profile["extensions"]["expectedBackAt"] == error["expectedBackAt"]
    assert "Tehran time" in profile["message"]


async def test_an_ops_window_serves_the_cached_copy_marked_stale() -> None:
    policies = {"water": {"fresh_ttl": 0.3, "stale_ttl": 600}}
    async with running_gateway(agency_policies=policies, probes=NO_PROBES) as gw:
        token = gw.token(COMPLETE)
        status, warm = await gw.query(QUERY, token=token)
        assert status == 200 and _water(warm)["state"] == "OK"
        assert gw.sandbox.calls("water") == 1
        await asyncio.sleep(0.4)  # past fresh
        calendar: MaintenanceCalendar = gw.app[MAINTENANCE]
        now = time.time()
        window = await calendar.add_window("water", now, now + 600, "pump upgrade")
        await gw.sandbox.set_fault("water", "down")  # and the agency is really away
        status, body = await gw.query(QUERY, token=token)
        assert gw.sandbox.calls("water") == 1  # not called in the window
        water = _water(body)
        assert water["state"] == "STALE" and water["source"]["stale"] is True
        assert water["source"]["fetchedAt"] == _water(warm)["source"]["fetchedAt"]
        assert water["error"]["code"] == "AGENCY_MAINTENANCE"  # why the copy is stale
        assert _maintenance_calls(gw, "water") == 1

        await calendar.remove_window("water", window.starts_at)  # ended early by ops
        await gw.sandbox.clear_fault("water")
        status, body = await gw.query(QUERY, token=token)
        assert _water(body)["state"] == "OK" and gw.sandbox.calls("water") == 2


async def test_an_agency_answering_503_with_retry_after_gives_the_back_at_time() -> None:
    async with running_gateway(probes=NO_PROBES) as gw:
        await gw.sandbox.set_fault("water", FaultSpec(mode="maintenance", retry_after_s=120))
        token = gw.token(COMPLETE)
        before = time.time()
        status, body = await gw.query(QUERY, token=token)
        error = _water(body)["error"]
        assert error["code"] == "AGENCY_MAINTENANCE"
        assert 118 <= error["retryAfterSeconds"] <= 121
        back_at = dt.datetime.fromisoformat(error["expectedBackAt"]).timestamp()
        assert before + 119 <= back_at <= time.time() + 121
        assert status == 200 and gw.sandbox.calls("water") == 1  # 2 minutes: not retried
        status, body = await gw.query(QUERY, token=token)
        assert status == 200
        assert _water(body)["error"]["code"] == "AGENCY_MAINTENANCE"
        assert gw.sandbox.calls("water") == 1  # not asked again before it said


async def test_recent_citizens_are_refreshed_before_an_ops_window() -> None:
    policies = {"water": {"fresh_ttl": 1.0, "stale_ttl": 600}}
    lead = {"refresh_lead_s": 4.0, "refresh_check_s": 0.1}
    async with running_gateway(agency_policies=policies, maintenance=lead, probes=NO_PROBES) as gw:
        calendar: MaintenanceCalendar = gw.app[MAINTENANCE]
        now = time.time()
        window = await calendar.add_window("water", now + 6, now + 600)
        token = gw.token(COMPLETE)
        await gw.query(QUERY, token=token)
        assert gw.sandbox.calls("water") == 1
        labels = {"agency": "water", "result": "refreshed"}
        metric = "panjereh_maintenance_refreshes_total"
        while gw.app[METRICS].registry.get_sample_value(metric, labels) is None:
            assert time.time() < window.starts_at, "no refresh before the window"
            await asyncio.sleep(0.05)
        assert time.time() >= window.starts_at - 4.0 - 0.1  # not before the lead
        assert gw.app[METRICS].registry.get_sample_value(metric, labels) == 1
        assert gw.sandbox.calls("water") == 2
        await asyncio.sleep(max(0.0, window.starts_at - time.time()) + 0.1)
        status, body = await gw.query(QUERY, token=token)
        water = _water(body)
        assert status == 200 and water["state"] == "STALE"
        refreshed_at = dt.datetime.fromisoformat(water["source"]["fetchedAt"]).timestamp()
        assert now + 1 < refreshed_at < window.starts_at  # the refresh's copy, not the first
        assert gw.sandbox.calls("water") == 2  # nothing during the window
