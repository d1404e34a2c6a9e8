"""Ops fields: agency circuits visible and forcible with the ops scope only."""

from __future__ import annotations

from sandbox import PERSONAS
from server import CONNECTORS
from tests.support.gateway import RunningGateway

STATUS = "{ agencies { id nameFa nameEn up circuit circuitForced retryInSeconds } }"
FORCE = """mutation($agency: String!, $state: CircuitOverride!) {
  setCircuit(agency: $agency, state: $state) {
    agency { id circuit circuitForced forcedCircuit { state by appliedTo } } state appliedTo } }"""


async def test_agency_status_needs_the_ops_scope(gateway: RunningGateway) -> None:
    _, body = await gateway.query(STATUS, token=gateway.token(PERSONAS["complete"]))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    _, body = await gateway.query(STATUS)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_ops_sees_every_agency_and_can_force_a_circuit(gateway: RunningGateway) -> None:
    ops = gateway.service_token("ops-dashboard", ["ops"])
    _, body = await gateway.query(STATUS, token=ops)
    agencies = {a["id"]: a for a in body["data"]["agencies"]}
    assert len(agencies) == 16
    # Probed at start-up: known to be up before any citizen asked it anything.
    assert agencies["water"]["circuit"] == "CLOSED" and agencies["water"]["up"] is True
    assert agencies["water"]["nameFa"] == "آب و فاضلاب"
    assert agencies["water"]["nameEn"] == "Water and Wastewater"

    _, body = await gateway.query(FORCE, token=ops, variables={"agency": "water", "state": "OPEN"})
    assert body["data"]["setCircuit"] == {
        "agency": {
            "id": "water",
            "circuit": "OPEN",
            "circuitForced": True,
            "forcedCircuit": {"state": "OPEN", "by": "ops-dashboard", "appliedTo": "INSTANCE"},
        },
        "state": "OPEN",
        "appliedTo": "INSTANCE",  # the embedded default has no Redis: this instance alone
    }
    citizen = gateway.token(PERSONAS["complete"])
    _, bills = await gateway.query(
        "{ me { bills { sources { agency state error { code } } } } }", token=citizen
    )
    water = {s["agency"]: s for s in bills["data"]["me"]["bills"]["sources"]}["water"]
    assert water["error"]["code"] == "CIRCUIT_OPEN"
    assert gateway.sandbox.calls("water") == 0

    _, body = await gateway.query(FORCE, token=ops, variables={"agency": "water", "state": "AUTO"})
    released = body["data"]["setCircuit"]
    assert released["agency"]["circuitForced"] is False
    assert released["agency"]["forcedCircuit"] is None
    _, body = await gateway.query(FORCE, token=ops, variables={"agency": "nope", "state": "OPEN"})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_forcing_a_circuit_needs_the_ops_scope(gateway: RunningGateway) -> None:
    for token in (
        gateway.token(PERSONAS["complete"]),
        gateway.service_token("caseworker-app", ["citizen:read"]),
        None,
    ):
        _, body = await gateway.query(
            FORCE, token=token, variables={"agency": "water", "state": "OPEN"}
        )
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}
    assert gateway.app[CONNECTORS].water.breaker.forced is False
