"""The real gateway on a random loopback port, in front of a real sandbox, for tests and bench."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from auth.tokens import TokenIssuer
from ratelimits.config import CitizenLimits, ClientLimits, RateLimits
from sandbox import Sandbox
from server import create_app
from settings import Settings

__all__ = ["GENEROUS_RATE_LIMITS", "RunningGateway", "another_instance", "running_gateway"]

_PLENTY = "1000000/minute"
GENEROUS_RATE_LIMITS = RateLimits(
    citizen=CitizenLimits(requests=_PLENTY, lookups=_PLENTY, shahkar=_PLENTY),
    client=ClientLimits(requests=_PLENTY, lookups=_PLENTY, shahkar=_PLENTY),
    anonymous=_PLENTY,
)
"""Limits on, but far above what any test sends from one token (the security tests of rate
limits pass their own)."""


@dataclass
class RunningGateway:
    """A started gateway, its sandbox, and a client session to talk to it."""

    url: str
    app: web.Application
    sandbox: Sandbox
    settings: Settings
    client: aiohttp.ClientSession

    def token(self, national_code: str, *, acr: int = 3, ttl_s: int = 3600) -> str:
        """A development citizen token (level 3 unless `acr` says otherwise)."""
        return TokenIssuer.from_settings(self.settings).citizen(national_code, ttl_s, acr=acr)

    def service_token(self, client_id: str, scopes: list[str], *, ttl_s: int = 3600) -> str:
        return TokenIssuer.from_settings(self.settings).service(client_id, scopes, ttl_s)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/graphql"

    async def query(
        self,
        query: str,
        *,
        token: str | None = None,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """POST a GraphQL query; returns the HTTP status and the decoded JSON body."""
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        async with self.client.post(
            f"{self.url}/graphql", json=payload, headers=all_headers
        ) as response:
            return response.status, await response.json()


@asynccontextmanager
async def running_gateway(
    *, sandbox_latency_ms: tuple[int, int] = (0, 0), **settings: Any
) -> AsyncIterator[RunningGateway]:
    """Start a sandbox and a gateway pointed at it by URL; stop both afterwards.

    The in-memory cache unless the caller passes `redis_url`: a REDIS_URL in the environment
    must not make every test write into a shared Redis. Rate limits are `GENEROUS_RATE_LIMITS`
    unless the caller passes `rate_limits`. The audit log goes to a temporary file (removed
    afterwards), with a key production mode accepts; an `audit` dict is merged over that.
    """
    state = tempfile.TemporaryDirectory(prefix="panjereh-gateway-")
    sandbox = Sandbox(host="127.0.0.1", latency_ms=sandbox_latency_ms)
    urls = await sandbox.start()
    audit = {
        "path": f"{state.name}/audit.jsonl",
        "key_secret": "audit-key-of-the-test-gateways-32-bytes-or-more",
        "batch_interval_s": 0.05,
    }
    if isinstance(settings.get("audit"), dict):
        audit |= settings.pop("audit")
    defaults = {"redis_url": None, "rate_limits": GENEROUS_RATE_LIMITS, "audit": audit}
    config = Settings(agency_urls=urls, **{**defaults, **settings})
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as client:
            yield RunningGateway(f"http://127.0.0.1:{port}", app, sandbox, config, client)
    finally:
        await runner.cleanup()
        await sandbox.stop()
        state.cleanup()


@asynccontextmanager
async def another_instance(first: RunningGateway) -> AsyncIterator[RunningGateway]:
    """One more instance of `first`'s gateway (same settings, so the same agencies and Redis),
    serving on a port of its own, with an audit file of its own; stopped afterwards."""
    state = tempfile.TemporaryDirectory(prefix="panjereh-gateway-")
    audit = first.settings.audit.model_copy(update={"path": f"{state.name}/audit.jsonl"})
    config = first.settings.model_copy(update={"audit": audit})
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield RunningGateway(f"http://127.0.0.1:{port}", app, first.sandbox, config, first.client)
    finally:
        await runner.cleanup()
        state.cleanup()
