"""Outage scenarios: one agency hanging in the sandbox, its circuit forced CLOSED or OPEN.

An outage is set up through the two control planes an operator has: the sandbox's admin API
(the agency's fault, and its call counter, which shows how often the gateway still knocked) and
the gateway's ops GraphQL API (`setCircuit`, then `agencies` to verify, with a service token of
scope `ops`). Each scenario is undone when it ends, however it ends: fault cleared, circuit
handed back (AUTO), so the next scenario starts from a healthy agency and a closed circuit.

What the gateway should answer during an outage is known, so it is not counted as an error: the
outage agency's part missing with the code the circuit implies (AGENCY_TIMEOUT while CLOSED,
CIRCUIT_OPEN while OPEN), plus NOT_FOUND from agencies that hold nothing for a generated citizen.
Every other error still is one. Each answer is also sorted by how the outage agency's part was
served: `missing`, `stale` (a cached copy past its fresh window, marked stale) or `fresh`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.load import Judge, Verdict, error_kind, judge_strict

__all__ = [
    "OUTAGES",
    "STALE_FRESH_TTL_S",
    "Control",
    "OutageError",
    "OutageScenario",
    "hanging",
    "outage_judge",
    "prime",
    "stale_gateway_env",
]

# The second gateway's policy for the outage agency (hang-*-stale): an answer is fresh for one
# second, then kept an hour to be served, marked stale, when the agency fails (stale-if-error).
STALE_FRESH_TTL_S = 1.0
STALE_STALE_TTL_S = 3600.0
_HANG = {"mode": "hang"}  # held for the sandbox's default 300 s, far past every gateway timeout


class OutageError(RuntimeError):
    """Setting an outage up, verifying it or undoing it failed; the message says which."""


@dataclass(frozen=True)
class OutageScenario:
    """One outage scenario: the circuit it is forced to and whose cache it meets."""

    name: str
    circuit: str  # "CLOSED" or "OPEN", as `setCircuit` takes it
    cache: str  # "cold": a new citizen each request; "warm": the cached persona, fresh;
    # "stale": the cached persona on the stale gateway, past its fresh window

    @property
    def expected_code(self) -> str:
        """The code the outage agency's part fails with: it is waited for, or not called."""
        return "AGENCY_TIMEOUT" if self.circuit == "CLOSED" else "CIRCUIT_OPEN"

    @property
    def gateway(self) -> str:
        """Which gateway process it runs on: `gateway`, or `gateway-stale` (short fresh TTL)."""
        return "gateway-stale" if self.cache == "stale" else "gateway"


OUTAGES: dict[str, OutageScenario] = {
    s.name: s
    for s in (
        OutageScenario("hang-closed-cold", "CLOSED", "cold"),
        OutageScenario("hang-open-cold", "OPEN", "cold"),
        OutageScenario("hang-closed-warm", "CLOSED", "warm"),
        OutageScenario("hang-open-warm", "OPEN", "warm"),
        OutageScenario("hang-closed-stale", "CLOSED", "stale"),
        OutageScenario("hang-open-stale", "OPEN", "stale"),
    )
}


def stale_gateway_env(agency: str) -> dict[str, str]:
    """The environment of the second gateway, the one the hang-*-stale scenarios run on."""
    policy = {"fresh_ttl": STALE_FRESH_TTL_S, "stale_ttl": STALE_STALE_TTL_S}
    return {"PANJEREH_AGENCY_POLICIES": json.dumps({agency: policy})}


def outage_judge(agency: str, expected_code: str) -> Judge:
    """A judge for answers given while `agency` is out (see the module docstring)."""

    def judge(document: dict[str, Any]) -> Verdict:
        unexpected: set[str] = set()
        tolerated: set[str] = set()
        missing = stale = False
        for error in document.get("errors") or []:
            kind = error_kind(error)
            extensions = error.get("extensions") if isinstance(error, dict) else None
            code = extensions.get("code") if isinstance(extensions, dict) else None
            where = extensions.get("agency") if isinstance(extensions, dict) else None
            if where == agency and code != "NOT_FOUND":
                missing = True
            if code == "NOT_FOUND" or (where == agency and code == expected_code):
                tolerated.add(kind)
            else:
                unexpected.add(kind)
        for node in _agency_nodes(document.get("data")):
            state = node.get("state")  # a part of an aggregated list (SourceStatus)
            if node["agency"] != agency:
                if state == "UNAVAILABLE":
                    unexpected.add(f"{_part_code(node)}({node['agency']}) in a list")
            elif state == "UNAVAILABLE":
                missing = True
                if _part_code(node) != expected_code:
                    unexpected.add(f"{_part_code(node)}({agency}) in a list")
            elif node.get("stale") is True:  # a SourceInfo: where and how old a value is
                stale = True
        if document.get("data") is None:
            missing = True  # nothing at all was answered
        part = "missing" if missing else "stale" if stale else "fresh"
        return Verdict(tuple(sorted(unexpected)), tuple(sorted(tolerated)), part)

    return judge


def _part_code(node: Mapping[str, Any]) -> str:
    error = node.get("error")
    return str(error.get("code")) if isinstance(error, dict) else "NO_CODE"


def _agency_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in the answer's data that names an agency (sources and list parts)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("agency"), str):
                yield item
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(item)


class Control:
    """The sandbox's admin API and the gateways' ops API, over one client session."""

    def __init__(self, session: aiohttp.ClientSession, admin_url: str, ops_token: str) -> None:
        self.session = session
        self._admin = admin_url.rstrip("/")
        self._ops_headers = {"Authorization": f"Bearer {ops_token}"}

    async def _admin_call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, self._admin + path, json=body) as response:
            text = await response.text()
            if response.status != 200:
                raise OutageError(f"sandbox admin {method} {path}: {response.status} {text[:300]}")
            return json.loads(text)

    async def set_fault(self, agency: str, spec: Mapping[str, Any]) -> None:
        await self._admin_call("PUT", f"/agencies/{agency}/fault", dict(spec))

    async def clear_fault(self, agency: str) -> None:
        await self._admin_call("DELETE", f"/agencies/{agency}/fault")

    async def calls(self, agency: str) -> int:
        """Requests the sandbox agency has received so far, faulted ones included."""
        return int((await self._admin_call("GET", "/agencies"))[agency]["calls"])

    async def _ops(self, gateway: str, query: str) -> dict[str, Any]:
        url = f"{gateway}/graphql"
        async with self.session.post(
            url, json={"query": query}, headers=self._ops_headers
        ) as response:
            text = await response.text()
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if response.status != 200 or not isinstance(document, dict) or document.get("errors"):
            raise OutageError(f"ops query to {url} failed: {response.status} {text[:300]}")
        return dict(document["data"])

    async def set_circuit(self, gateway: str, agency: str, state: str) -> None:
        """`setCircuit`: OPEN or CLOSED holds the circuit there, AUTO hands it back."""
        mutation = f'setCircuit(agency: "{agency}", state: {state}) {{ appliedTo }}'
        await self._ops(gateway, f"mutation {{ {mutation} }}")

    async def circuit(self, gateway: str, agency: str) -> tuple[str, bool]:
        """The circuit as `{ agencies { id circuit circuitForced } }` reports it."""
        data = await self._ops(gateway, "{ agencies { id circuit circuitForced } }")
        for status in data["agencies"] or []:
            if status["id"] == agency:
                return str(status["circuit"]), bool(status["circuitForced"])
        raise OutageError(f"the gateway at {gateway} does not list agency {agency!r}")


@asynccontextmanager
async def hanging(
    control: Control, gateway: str, agency: str, circuit: str
) -> AsyncIterator[tuple[str, bool]]:
    """`agency` hanging in the sandbox and its circuit on `gateway` forced to `circuit`, for the
    body of the `with`; yields the circuit as the gateway reported it once set (verified)."""
    await control.set_circuit(gateway, agency, circuit)
    try:
        await control.set_fault(agency, _HANG)
        seen = await control.circuit(gateway, agency)
        if seen != (circuit, True):
            raise OutageError(
                f"circuit of {agency} is {seen[0]} (forced: {seen[1]}), not {circuit}"
            )
        yield seen
    finally:
        try:
            await control.clear_fault(agency)  # also releases any request still held
        finally:
            await control.set_circuit(gateway, agency, "AUTO")


async def prime(session: aiohttp.ClientSession, url: str, body: bytes, headers: Any) -> None:
    """One request while every agency is up, so the persona's answers are in the gateway's cache;
    it must come back without errors, or the warm scenarios would not be warm."""
    async with session.post(url, data=body, headers=headers) as response:
        text = await response.text()
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if response.status != 200 or not isinstance(document, dict):
        raise OutageError(f"priming the cache at {url} failed: {response.status} {text[:300]}")
    verdict = judge_strict(document)
    if verdict.unexpected or document.get("data") is None:
        raise OutageError(f"priming the cache at {url} got errors: {text[:300]}")
