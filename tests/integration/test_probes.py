"""Agency probes over real HTTP: the gateway knows which agencies are up with no user traffic.

The sandbox's `GET /health` sits behind each agency's fault middleware, so taking an agency
down in the sandbox fails its health check as it fails real calls; `health_calls` counts the
probes apart from real calls. Before probes, `panjereh_agency_up` did not exist until an agency
was first called and moved only with user traffic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from connectors.pipeline.breaker import CircuitState
from connectors.registry import AGENCY_IDS
from observability.metrics import Metrics
from server import CONNECTORS, METRICS
from tests.redis_server import delete_namespace, redis_client, unique_namespace
from tests.support.gateway import another_instance, running_gateway
from tests.support.redis_topologies import every_topology

redis_url = every_topology()  # probes and their leases, on every topology

INTERVAL_S = 0.25
PROBES = {"interval_s": INTERVAL_S, "timeout_s": INTERVAL_S / 2}
SLACK_S = 4.0  # two cores shared with other test runs (and a Cluster): ticks may start late


def _up(metrics: Metrics, agency: str) -> float | None:
    return metrics.registry.get_sample_value("panjereh_agency_up", {"agency": agency})


async def _until(check: Callable[[], bool], within_s: float) -> float:
    """Seconds until `check()` held; fails the test if it did not within `within_s`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within_s:
            pytest.fail(f"not within {within_s} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def _requests_samples(metrics: Metrics) -> list[object]:
    return [
        sample
        for family in metrics.registry.collect()
        if family.name == "panjereh_agency_requests"
        for sample in family.samples
    ]


async def test_agencies_are_up_from_start_and_follow_the_sandbox_without_traffic() -> None:
    async with running_gateway(probes=PROBES) as gw:
        metrics = gw.app[METRICS]
        await _until(lambda: all(_up(metrics, a) == 1 for a in AGENCY_IDS), 5.0)
        async with gw.client.get(f"{gw.url}/metrics") as response:
            text = await response.text()
        for agency in AGENCY_IDS:
            assert f'panjereh_agency_up{{agency="{agency}"}} 1.0' in text
            assert f'panjereh_agency_probe_success{{agency="{agency}"}} 1.0' in text
            assert f'panjereh_agency_probe_duration_seconds{{agency="{agency}"}}' in text

        await gw.sandbox.set_fault("electricity", "down")
        took = await _until(lambda: _up(metrics, "electricity") == 0, 2 * INTERVAL_S + SLACK_S)
        print(f"electricity down seen after {took:.2f} s")
        assert _up(metrics, "water") == 1
        await gw.sandbox.clear_fault("electricity")
        took = await _until(lambda: _up(metrics, "electricity") == 1, 2 * INTERVAL_S + SLACK_S)
        print(f"electricity restored seen after {took:.2f} s")

        await gw.sandbox.set_fault("gas", "maintenance")
        maintenance = {"agency": "gas"}
        await _until(
            lambda: (
                metrics.registry.get_sample_value(
                    "panjereh_agency_announced_maintenance", maintenance
                )
                == 1
            ),  # the agency's own word (503 + Retry-After), not a planned window
            2 * INTERVAL_S + SLACK_S,
        )
        assert metrics.registry.get_sample_value(
            "panjereh_agency_probes_total", {"agency": "gas", "outcome": "maintenance"}
        )

        # Probes are not user traffic: no real call, no request metric, the breakers untouched.
        assert all(gw.sandbox.calls(a) == 0 for a in AGENCY_IDS)
        assert gw.sandbox.health_calls("water") >= 3
        assert _requests_samples(metrics) == []
        assert all(c.breaker.state is CircuitState.CLOSED for c in gw.app[CONNECTORS])


async def test_probes_do_not_spend_a_citizens_budget() -> None:
    budget = {"citizen": {"requests": "2/minute"}}
    async with running_gateway(probes=PROBES, rate_limits=budget) as gw:
        metrics = gw.app[METRICS]
        before = gw.sandbox.health_calls("civil-registry")
        await _until(lambda: gw.sandbox.health_calls("civil-registry") >= before + 4, 5.0)
        token = gw.token("0012345679")
        query = "{ me { profile { firstName } } }"
        for _ in range(2):  # the whole budget is still the citizen's
            status, body = await gw.query(query, token=token)
            assert status == 200 and "errors" not in body, body
        status, body = await gw.query(query, token=token)
        assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert metrics.registry.get_sample_value("panjereh_agency_up", {"agency": "civil-registry"})


@pytest.mark.redis
async def test_two_gateways_on_one_redis_probe_once_per_interval_and_agree(
    redis_url: str,
) -> None:
    namespace = unique_namespace().rstrip(":")
    async with redis_client(redis_url) as client:
        try:
            async with (
                running_gateway(
                    probes=PROBES,
                    redis_url=redis_url,
                    cache_namespace=namespace,
                    cache_key_secret="shared-by-both-instances",
                    cache_timeout_s=2,
                ) as gw,
                another_instance(gw) as second,
            ):
                first_metrics, second_metrics = gw.app[METRICS], second.app[METRICS]
                await _until(lambda: all(_up(second_metrics, a) == 1 for a in AGENCY_IDS), 5.0)

                gw.sandbox.reset_calls()
                started = time.monotonic()
                await asyncio.sleep(12 * INTERVAL_S)
                intervals = (time.monotonic() - started) / INTERVAL_S
                counts = {a: gw.sandbox.health_calls(a) for a in AGENCY_IDS}
                print(f"{intervals:.1f} intervals: health calls {counts}")
                for agency, count in counts.items():
                    # Each instance alone would make one per interval: twice this between them.
                    assert count <= intervals + 2, (agency, count)
                    assert count >= intervals * 0.4, (agency, count)
                await gw.sandbox.set_fault("tax", "down")
                await _until(
                    lambda: _up(first_metrics, "tax") == 0 and _up(second_metrics, "tax") == 0,
                    2 * INTERVAL_S + SLACK_S,
                )
                await gw.sandbox.clear_fault("tax")
                await _until(
                    lambda: _up(first_metrics, "tax") == 1 and _up(second_metrics, "tax") == 1,
                    2 * INTERVAL_S + SLACK_S,
                )
                for agency in AGENCY_IDS:
                    assert _up(first_metrics, agency) == _up(second_metrics, agency) == 1
        finally:
            await delete_namespace(client, namespace)
