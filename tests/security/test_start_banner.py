"""What `python server.py` prints to stdout when it starts. The embedded default (development,
sandbox agencies) prints the sandbox citizens' national codes and a bearer token to try them:
its onboarding. Production's stdout goes to the log collector: neither may appear there."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from connectors.registry import AGENCY_IDS
from sandbox import PERSONAS
from tests.security.conftest import production_settings

ROOT = Path(__file__).resolve().parents[2]
CODE_RUN = re.compile(r"\d{10}")
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
_START_S = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(settings: dict[str, Any], prefix: str = "PANJEREH_") -> dict[str, str]:
    """Settings as the variables that say them (nested groups with `__`, lists as JSON)."""
    env: dict[str, str] = {}
    for name, value in settings.items():
        key = prefix + name.upper()
        if isinstance(value, dict):
            env |= _environment(value, key + "__")
        else:
            env[key] = json.dumps(value, default=str) if isinstance(value, list) else str(value)
    return env


async def _stdout_of_a_start(**environment: str) -> str:
    """Start the gateway as a person would, wait until it answers, stop it: its stdout."""
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "server.py", "--host", "127.0.0.1", "--port", str(port),
        cwd=ROOT, env={**clean, "PYTHONPATH": str(ROOT), **environment},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + _START_S
        async with aiohttp.ClientSession() as client:
            while True:
                if process.returncode is not None:
                    _, err = await process.communicate()
                    raise AssertionError(f"the gateway exited at start: {err.decode()[-6000:]}")
                assert time.monotonic() < deadline, "the gateway did not start"
                try:
                    async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break  # on_startup (the banner) ran before the port opened
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
    finally:
        if process.returncode is None:
            process.terminate()
        out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert b"Panjereh is serving" in out, err.decode()[-2000:]
    return out.decode()


async def test_the_embedded_default_prints_the_sandbox_citizens_and_a_token() -> None:
    """The onboarding stays, and shows the checks below can see a code and a token."""
    out = await _stdout_of_a_start()
    assert PERSONAS["complete"] in out and CODE_RUN.search(out)
    assert JWT.search(out)


async def test_production_prints_neither_a_national_code_nor_a_token(tmp_path: Path) -> None:
    settings = production_settings(tmp_path) | {
        "audit": {
            "path": str(tmp_path / "audit.jsonl"),
            "key_secret": "audit-key-of-the-banner-test-32-bytes-or-more",
        },
        "probes": {"interval_s": 2, "timeout_s": 0.5},  # production probes; port 9 refuses at once
        "workers": 1,  # the gateway's own banner (a supervisor prints its own after its workers')
    }
    agencies = json.dumps({agency: "http://127.0.0.1:9" for agency in AGENCY_IDS})  # none answers
    out = await _stdout_of_a_start(**_environment(settings), PANJEREH_AGENCY_URLS=agencies)
    assert "/healthz" in out  # it did say where it serves
    assert not CODE_RUN.search(out), out
    assert not JWT.search(out), out
    assert not any(code in out for code in PERSONAS.values())
