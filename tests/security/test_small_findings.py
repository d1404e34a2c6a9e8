"""Smaller findings of the security review, each kept as a regression test."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gateway import running_gateway

ROOT = Path(__file__).resolve().parents[2]
FORCE = """mutation($agency: String!, $state: CircuitOverride!) {
  setCircuit(agency: $agency, state: $state) { agency { id circuit circuitForced } } }"""


@pytest.mark.parametrize("state", ["CLOSED", "OPEN", "AUTO"])
async def test_forcing_a_circuit_logs_the_state_that_was_forced(
    state: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="panjereh.ops")
    async with running_gateway() as gateway:
        ops = gateway.service_token("ops-dashboard", ["ops"])
        _, body = await gateway.query(FORCE, token=ops, variables={"agency": "tax", "state": state})
        assert body["data"]["setCircuit"]["agency"]["circuitForced"] is (state != "AUTO")
    [line] = [r.getMessage() for r in caplog.records if r.name == "panjereh.ops"]
    assert line.startswith(f"circuit of tax forced to {state} by ops-dashboard")


@pytest.mark.parametrize(
    "variable,value",
    [
        ("PANJEREH_CACHE_ENCRYPTION_KEY", "s3cr3t-n0t-base64-Zq9Xw!!"),
        ("REDIS_URL", "http://gateway:s3cr3t-Zq9Xw@redis.internal:6379"),
        ("PANJEREH_AGENCY_POLICIES", '{"tax": "s3cr3t-n0t-a-policy-Zq9Xw"}'),
    ],
)
def test_a_configuration_error_names_the_setting_but_not_its_value(
    variable: str, value: str
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), variable: value}
    result = subprocess.run(
        [sys.executable, "server.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "configuration error" in result.stderr
    assert "Zq9Xw" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
