"""An agency (or whatever sits in front of it) answering with something built to hurt the reader:
an XML entity bomb, an external entity, a 50 MB body. Each costs its own field as
AGENCY_BAD_RESPONSE; the gateway stays healthy, its memory bounded, its log free of tracebacks."""

from __future__ import annotations

import logging
import resource
import time

import pytest

from sandbox import PERSONAS, FaultSpec
from sandbox.malformed import OVERSIZED_BYTES
from tests.support.gateway import running_gateway

COMPLETE = PERSONAS["complete"]
QUERY = (
    "{ me { profile { firstName } address { postalCode } records { deeds { items { unit } } } } }"
)
PATHS = {
    "profile": ["me", "profile"],
    "address": ["me", "address"],
    "deeds": ["me", "records", "deeds"],
}


def _at(data: dict, path: list[str]) -> object:
    for key in path:
        data = data[key]
    return data


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


@pytest.mark.parametrize("kind", ["xml_bomb", "external_entity", "oversized"])
@pytest.mark.parametrize(
    "agency,path",
    [("civil-registry", "profile"), ("post", "address"), ("land-registry", "deeds")],
)
async def test_hostile_agency_answer_costs_only_its_field(
    kind: str, agency: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_gateway() as gateway:
        await gateway.sandbox.set_fault(agency, FaultSpec(mode="malformed", malformation=kind))
        before = _rss_mb()
        started = time.perf_counter()
        status, body = await gateway.query(QUERY, token=gateway.token(COMPLETE))
        elapsed = time.perf_counter() - started
        grown = _rss_mb() - before

        assert status == 200
        assert _at(body["data"], PATHS[path]) is None
        for other in set(PATHS) - {path}:
            assert _at(body["data"], PATHS[other]) is not None
        [error] = body["errors"]
        assert error["path"] == PATHS[path]
        assert error["extensions"]["code"] == "AGENCY_BAD_RESPONSE"
        assert error["extensions"]["agency"] == agency
        assert "passwd" not in str(body) and "lol" not in str(body)
        # An entity bomb expands to gigabytes and a 50 MB body would be read whole: neither
        # happens, so the answer is quick and memory barely moves (generous for a busy machine).
        assert elapsed < 5.0
        assert grown < OVERSIZED_BYTES / 2**20 / 2

        async with gateway.client.get(f"{gateway.url}/healthz") as health:
            assert health.status == 200
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not any(
        record.exc_info for record in caplog.records if record.name.startswith("panjereh")
    )
    assert COMPLETE not in logged
