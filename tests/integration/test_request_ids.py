"""The request id reaches the agencies over real HTTP: what the sandbox agencies record as the
`X-Request-Id` of each call they received is the id the gateway echoed to its client.

Before, the id stayed in the gateway (its access line and audit), so an agency's logs could not
be matched with ours; probes sent none, so their calls looked like anyone's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from observability.request_ids import accepted_request_id
from sandbox import AGENCY_IDS, PERSONAS, Sandbox
from tests.integration.queries import ME, PROFILE
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.websocket import graphql_socket

COMPLETE, SPARSE, DECEASED = PERSONAS["complete"], PERSONAS["sparse"], PERSONAS["deceased"]
MOBILE = "09121234567"


async def _ask(
    gateway: RunningGateway, national_code: str, headers: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """POST the full `me` query (every agency); the echoed X-Request-Id and the body."""
    token = gateway.token(national_code)
    async with gateway.client.post(
        f"{gateway.url}/graphql",
        json={"query": ME, "variables": {"mobile": MOBILE}},
        headers={"Authorization": f"Bearer {token}", **headers},
    ) as response:
        assert response.status == 200
        return response.headers["X-Request-Id"], await response.json()


def _ids_seen(gateway: RunningGateway) -> dict[str, set[str | None]]:
    """Per agency that was called, the request ids its calls carried."""
    seen = {agency: set(gateway.sandbox.request_ids(agency)) for agency in AGENCY_IDS}
    return {agency: ids for agency, ids in seen.items() if ids}


async def test_a_clients_request_id_reaches_every_agency_the_request_calls(
    gateway: RunningGateway,
) -> None:
    echoed, body = await _ask(gateway, COMPLETE, {"X-Request-Id": "abc-123"})
    assert echoed == "abc-123"
    assert body["data"]["me"]["profile"]["firstName"]
    seen = _ids_seen(gateway)
    assert set(seen) == set(AGENCY_IDS)  # the full `me` asks all sixteen
    assert all(ids == {"abc-123"} for ids in seen.values()), seen


async def test_without_an_id_the_agencies_get_the_one_echoed_to_the_client(
    gateway: RunningGateway,
) -> None:
    echoed, _ = await _ask(gateway, SPARSE, {})
    assert accepted_request_id(echoed) == echoed  # one of ours
    seen = _ids_seen(gateway)
    assert seen and all(ids == {echoed} for ids in seen.values()), (echoed, seen)


async def test_an_unsafe_id_is_replaced_before_any_agency_sees_it(
    gateway: RunningGateway,
) -> None:
    unsafe = f"id-{COMPLETE}"  # a national code inside: neither kept nor forwarded
    echoed, _ = await _ask(gateway, DECEASED, {"X-Request-Id": unsafe})
    assert echoed != unsafe and accepted_request_id(echoed) == echoed
    seen = _ids_seen(gateway)
    assert seen and all(ids == {echoed} for ids in seen.values()), (echoed, seen)


async def test_operations_on_a_websocket_send_the_id_of_its_upgrade_request(
    gateway: RunningGateway,
) -> None:
    token = gateway.token(COMPLETE)
    headers = {"X-Request-Id": "ws-7"}
    async with graphql_socket(gateway.client, gateway.ws_url, token=token, headers=headers) as ws:
        assert (await ws.run(PROFILE))["data"]["me"]["profile"]["firstName"]
        assert (await ws.run(ME, {"mobile": MOBILE}))["data"]["me"]["profile"]["firstName"]
    seen = _ids_seen(gateway)
    assert set(seen) == set(AGENCY_IDS)
    assert all(ids == {"ws-7"} for ids in seen.values()), seen


async def test_probes_send_ids_of_their_own() -> None:
    probes = {"interval_s": 0.2, "timeout_s": 0.1}
    async with running_gateway(probes=probes) as gw:
        started = time.monotonic()
        while gw.sandbox.health_calls("water") < 3:
            assert time.monotonic() - started < 10, "no probes"
            await asyncio.sleep(0.05)
        ids = gw.sandbox.health_request_ids("water")
        assert all(i is not None and i.startswith("probe-water-") for i in ids), ids
        assert len(set(ids)) == len(ids)  # one id per probe
        assert all(gw.sandbox.request_ids(agency) == [] for agency in AGENCY_IDS)


async def test_the_sandbox_keeps_the_ids_its_agencies_received() -> None:
    async with Sandbox() as sandbox, aiohttp.ClientSession() as http:
        water = sandbox.urls["water"]
        bills = f"{water}/api/customers/{COMPLETE}/bills"
        async with http.get(bills, headers={"X-Request-Id": "r-1"}) as response:
            assert response.status == 200
        async with http.get(bills) as response:
            assert response.status == 200
        async with http.get(f"{water}/health", headers={"X-Request-Id": "probe-x"}) as response:
            assert response.status == 200
        assert sandbox.request_ids("water") == ["r-1", None]
        assert sandbox.health_request_ids("water") == ["probe-x"]
        async with http.get(f"{sandbox.admin_url}/agencies") as response:
            state = (await response.json())["water"]
        assert state["request_ids"] == ["r-1", None]
        assert state["health_request_ids"] == ["probe-x"]
        await sandbox.reset()
        assert sandbox.request_ids("water") == [] == sandbox.health_request_ids("water")
