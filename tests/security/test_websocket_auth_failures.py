"""Tokens refused over graphql-transport-ws are counted in `panjereh_auth_failures_total{reason}`
as HTTP 401s are: at `connection_init`, and at each operation that re-checks the connection's
token. Before, a token that stopped being trusted while its socket was open was refused
operation after operation and no counter moved; each refusal is counted once, never also as
`missing`.

Real gateway, real WebSocket client, a production-like gateway trusting a JWKS served on
loopback whose key is withdrawn mid-test.
"""

from __future__ import annotations

import asyncio

from sandbox import PERSONAS
from server import METRICS
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.signing import (
    IdentityProvider,
    SigningKey,
    citizen_claims,
    production_tokens,
    serve_jwks,
)
from tests.support.websocket import graphql_socket

COMPLETE = PERSONAS["complete"]
PROFILE = "{ me { profile { firstName } } }"
PRODUCTION = {"mode": "production", "cache_key_secret": "shared-cache-key"}
REASONS = ("missing", "malformed", "untrusted", "invalid", "expired", "not_yet_valid", "lifetime")


def failures(gw: RunningGateway) -> dict[str, float]:
    """The auth-failure counts by reason, the reasons never counted left out."""
    registry = gw.app[METRICS].registry
    counted = {
        reason: registry.get_sample_value("panjereh_auth_failures_total", {"reason": reason})
        for reason in REASONS
    }
    return {reason: value for reason, value in counted.items() if value}


def code_of(result: dict) -> str:
    return result["errors"][0]["extensions"]["code"]


async def test_refusals_at_connection_init_are_counted_once() -> None:
    async with running_gateway() as gw:
        forged = gw.token(COMPLETE)[:-4] + "AAAA"
        async with graphql_socket(gw.client, gw.ws_url, token=forged) as socket:
            assert not socket.acked and socket.ws.close_code == 4403
        assert failures(gw) == {"untrusted": 1}
        async with gw.client.ws_connect(gw.ws_url, protocols=["graphql-transport-ws"]) as ws:
            await ws.send_json({"type": "connection_init", "payload": {"Authorization": "Basic x"}})
            await ws.receive(timeout=10)
            assert ws.close_code == 4403
        async with gw.client.ws_connect(gw.ws_url, protocols=["graphql-ws"]) as ws:  # legacy
            await ws.send_json({"type": "connection_init", "payload": {"Authorization": "x y"}})
            assert (await ws.receive_json(timeout=10))["type"] == "connection_error"
        assert failures(gw) == {"untrusted": 1, "malformed": 2}


async def test_each_operation_refused_for_its_connections_token_is_counted() -> None:
    old, new = SigningKey.generate("2025-old"), SigningKey.generate("2026-new", "ES256")
    provider = IdentityProvider([old])
    async with serve_jwks(provider) as url:
        tokens = production_tokens(jwks_url=url, jwks_min_refresh_s=1)
        async with running_gateway(**PRODUCTION, tokens=tokens) as gw:
            old_token = old.sign(citizen_claims(COMPLETE))
            async with graphql_socket(gw.client, gw.ws_url, token=old_token) as socket:
                assert (await socket.run(PROFILE))["data"]["me"]["profile"]["firstName"]
                assert failures(gw) == {}

                provider.keys = [new]  # the old key is withdrawn
                await asyncio.sleep(1.1)  # past the refresh interval
                status, _ = await gw.query(PROFILE, token=new.sign(citizen_claims(COMPLETE)))
                assert status == 200 and provider.fetches == 2  # the new kid made it refetch
                assert failures(gw) == {}

                assert code_of(await socket.run(PROFILE)) == "UNAUTHENTICATED"
                assert failures(gw) == {"untrusted": 1}  # and not also `missing`
                assert code_of(await socket.run(PROFILE)) == "UNAUTHENTICATED"
                assert failures(gw) == {"untrusted": 2}  # each refused operation, like a 401

            async with graphql_socket(gw.client, gw.ws_url) as anonymous:
                assert code_of(await anonymous.run(PROFILE)) == "UNAUTHENTICATED"
            assert failures(gw) == {"untrusted": 2, "missing": 1}  # a field asked with none
