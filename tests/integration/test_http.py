"""Health, readiness, metrics, the GraphiQL page, the CLI and the embedded default."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from auth.tokens import TokenIssuer, TokenVerifier
from sandbox import PERSONAS
from server import METRICS, create_app
from settings import Settings
from tests.integration.queries import ME, PROFILE
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.signing import SigningKey, production_tokens

ROOT = Path(__file__).resolve().parents[2]
COMPLETE = PERSONAS["complete"]


async def test_health_and_readiness(gateway: RunningGateway) -> None:
    async with gateway.client.get(f"{gateway.url}/healthz") as response:
        assert response.status == 200 and (await response.json()) == {"status": "ok"}
    async with gateway.client.get(f"{gateway.url}/readyz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ready", "cache": "memory"}


async def test_metrics_expose_agency_series_without_personal_data(
    gateway: RunningGateway,
) -> None:
    await gateway.query(ME, token=gateway.token(COMPLETE), variables={"mobile": "09121234567"})
    async with gateway.client.get(f"{gateway.url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    assert 'panjereh_agency_requests_total{agency="civil-registry",outcome="ok"} 1.0' in text
    assert 'panjereh_agency_up{agency="water"} 1.0' in text
    assert 'panjereh_graphql_requests_total{outcome="ok"} 1.0' in text
    assert "panjereh_agency_request_duration_seconds_bucket" in text
    assert (
        'panjereh_cache_lookups_total{agency="civil-registry",kind="person",result="miss"} 1.0'
        in text
    )
    assert COMPLETE not in text and "09121234567" not in text


async def test_no_national_code_in_logs(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await gateway.query(ME, token=gateway.token(COMPLETE), variables={"mobile": "09121234567"})
    await gateway.query(PROFILE, token=gateway.token(PERSONAS["unknown"]))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged  # the access log at least
    for code in (COMPLETE, PERSONAS["unknown"]):
        assert code not in logged


async def test_request_id_is_echoed_and_graphiql_is_served(gateway: RunningGateway) -> None:
    headers = {"Accept": "text/html", "X-Request-Id": "abc123"}
    async with gateway.client.get(f"{gateway.url}/graphql", headers=headers) as response:
        assert response.status == 200
        assert response.headers["X-Request-Id"] == "abc123"
        assert "graphiql" in (await response.text()).lower()


async def test_embedded_default_starts_its_own_sandbox() -> None:
    app = create_app(Settings(sandbox_latency_ms=(0, 0), redis_url=None))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    token = TokenIssuer.from_settings(Settings()).citizen(COMPLETE)
    try:
        async with (
            aiohttp.ClientSession() as client,
            client.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": PROFILE},
                headers={"Authorization": f"Bearer {token}"},
            ) as response,
        ):
            body = await response.json()
    finally:
        await runner.cleanup()
    assert body["data"]["me"]["profile"]["firstName"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "server.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_cli_help_documents_the_options() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--agency-urls", "--redis-url", "--workers", "dev-token"):
        assert option in result.stdout


async def test_cli_dev_token_is_accepted_by_the_verifier() -> None:
    result = _cli("dev-token", COMPLETE.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")))
    assert result.returncode == 0, result.stderr
    verifier = TokenVerifier.from_settings(Settings())
    principal = await verifier.verify(result.stdout.strip())
    assert principal.national_code == COMPLETE and principal.level == 3


def test_cli_dev_token_rejects_an_invalid_code_clearly() -> None:
    result = _cli("dev-token", "0012345670")
    assert result.returncode == 2
    assert "check digit" in result.stderr and "Traceback" not in result.stderr


async def test_production_mode_hides_the_schema(tmp_path: Path) -> None:
    pem = SigningKey.generate("prod").write_pem(tmp_path)
    production = {
        "mode": "production",
        "tokens": production_tokens(pem_files=[pem]),
        "cache_key_secret": "shared",
    }
    async with running_gateway(**production) as gw:
        _, body = await gw.query("{ __schema { types { name } } }")
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        _, body = await gw.query("{ mee { nationalCode } }")
        assert "Did you mean" not in body["errors"][0]["message"]
        async with gw.client.get(f"{gw.url}/graphql", headers={"Accept": "text/html"}) as response:
            assert "graphiql" not in (await response.text()).lower()
    async with running_gateway() as gw:  # development keeps both for the front-end teams
        _, body = await gw.query("{ __schema { types { name } } }")
        assert "errors" not in body


async def test_a_request_error_counts_once_whatever_status_its_media_type_gives(
    gateway: RunningGateway,
) -> None:
    def refused() -> float:
        value = gateway.app[METRICS].registry.get_sample_value(
            "panjereh_graphql_requests_total", {"outcome": "client_error"}
        )
        return value or 0.0

    for accept, status in (("application/graphql-response+json", 400), ("application/json", 200)):
        async with gateway.client.post(
            f"{gateway.url}/graphql", json={"query": "{"}, headers={"Accept": accept}
        ) as response:
            assert response.status == status
    assert refused() == 2
    async with gateway.client.put(f"{gateway.url}/graphql") as response:  # refused before GraphQL
        assert response.status == 405
    assert refused() == 3
