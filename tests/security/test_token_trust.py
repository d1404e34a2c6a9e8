"""Token trust over real HTTP: a production-like gateway trusting a JWKS served by a local
identity provider, a key rotation in the middle of the test, a slow provider stalling no request,
forgeries refused, citizen and service keys bound to their own issuers, and the
development-token commands refusing to mint for such a configuration."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jwt

from auth.tokens import TokenIssuer
from sandbox import PERSONAS
from settings import Settings
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.signing import (
    IdentityProvider,
    SigningKey,
    citizen_claims,
    production_tokens,
    serve_jwks,
    service_claims,
)
from tests.support.websocket import graphql_socket

ROOT = Path(__file__).resolve().parents[2]
COMPLETE = PERSONAS["complete"]
PROFILE = "{ me { profile { firstName } } }"
PRODUCTION = {"mode": "production", "cache_key_secret": "shared-cache-key"}


async def status_of(gw: RunningGateway, token: str) -> tuple[int, dict[str, Any]]:
    return await gw.query(PROFILE, token=token)


def unauthenticated(status: int, body: dict[str, Any]) -> bool:
    return status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_jwks_rotation_mid_test() -> None:
    old, new = SigningKey.generate("2025-old"), SigningKey.generate("2026-new", "ES256")
    provider = IdentityProvider([old])
    async with serve_jwks(provider) as url:
        tokens = production_tokens(jwks_url=url, jwks_min_refresh_s=2)
        async with running_gateway(**PRODUCTION, tokens=tokens) as gw:
            assert provider.fetches == 1  # fetched once at start
            old_token = old.sign(citizen_claims(COMPLETE))
            for _ in range(5):
                status, body = await status_of(gw, old_token)
                assert status == 200 and body["data"]["me"]["profile"]["firstName"]
            assert provider.fetches == 1  # never per request

            async with graphql_socket(gw.client, gw.ws_url, token=old_token) as socket:
                assert (await socket.run(PROFILE))["data"]["me"]["profile"]["firstName"]

                provider.keys = [new]  # rotation: the old key is withdrawn
                await asyncio.sleep(2.1)  # past the refresh interval
                status, body = await status_of(gw, new.sign(citizen_claims(COMPLETE)))
                assert status == 200 and body["data"]["me"]["profile"]["firstName"]
                assert provider.fetches == 2  # the unknown kid made one refresh

                assert unauthenticated(*await status_of(gw, old_token))
                result = await socket.run(PROFILE)  # the open socket is re-checked too
                assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

            stranger = SigningKey.generate("x")
            for _ in range(40):
                stranger.kid = uuid.uuid4().hex
                assert unauthenticated(
                    *await status_of(gw, stranger.sign(citizen_claims(COMPLETE)))
                )
            assert provider.fetches == 2  # random kids do not make it fetch


async def test_forgeries_and_bad_claims_are_refused() -> None:
    key = SigningKey.generate("k1")
    provider = IdentityProvider([key])
    async with (
        serve_jwks(provider) as url,
        running_gateway(**PRODUCTION, tokens=production_tokens(jwks_url=url)) as gw,
    ):

        def b64(data: bytes) -> bytes:
            return base64.urlsafe_b64encode(data).rstrip(b"=")

        signing_input = (
            b64(json.dumps({"alg": "HS256", "kid": key.kid}).encode())
            + b"."
            + b64(json.dumps(citizen_claims(COMPLETE)).encode())
        )
        mac = hmac.new(key.public_pem(), signing_input, hashlib.sha256).digest()
        forgeries = {
            "HS256 over the public key": (signing_input + b"." + b64(mac)).decode(),
            "alg none": jwt.encode(
                citizen_claims(COMPLETE), None, algorithm="none", headers={"kid": key.kid}
            ),
            "development token": TokenIssuer.from_settings(Settings()).citizen(COMPLETE),
            "100-year exp": key.sign(citizen_claims(COMPLETE, ttl_s=100 * 365 * 86400)),
            "no iat": key.sign({k: v for k, v in citizen_claims(COMPLETE).items() if k != "iat"}),
            "wrong issuer": key.sign(citizen_claims(COMPLETE, iss="https://evil.example")),
            "wrong audience": key.sign(citizen_claims(COMPLETE, aud="another-api")),
            "expired": key.sign(
                citizen_claims(COMPLETE, iat=int(time.time()) - 600, exp=int(time.time()) - 60)
            ),
        }
        for name, token in forgeries.items():
            assert unauthenticated(*await status_of(gw, token)), name
        status, _ = await status_of(gw, key.sign(citizen_claims(COMPLETE)))
        assert status == 200


CITIZEN_LOOKUP = (
    'query($nc: String!) { citizen(nationalCode: $nc, purpose: "case 42") '
    "{ profile { firstName } } }"
)


async def test_pem_keys_and_service_clients(tmp_path: Path) -> None:
    es, ed = SigningKey.generate("es", "ES256"), SigningKey.generate("ed", "EdDSA")
    partner = SigningKey.generate("partner", "ES256")
    tokens = production_tokens(
        pem_files=[es.write_pem(tmp_path), ed.write_pem(tmp_path)],
        service_pem_files=[partner.write_pem(tmp_path)],
    )
    async with running_gateway(**PRODUCTION, tokens=tokens) as gw:
        for key in (es, ed):
            status, body = await status_of(gw, key.sign(citizen_claims(COMPLETE)))
            assert status == 200 and body["data"]["me"]["profile"]["firstName"]
        assert (await status_of(gw, es.sign(citizen_claims(COMPLETE), kid=False)))[0] == 200

        service = partner.sign(service_claims("caseworker-app", "citizen:read"))
        _, body = await gw.query(CITIZEN_LOOKUP, token=service, variables={"nc": COMPLETE})
        assert body["data"]["citizen"]["profile"]["firstName"]
        _, body = await gw.query(PROFILE, token=service)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # `me` is for citizens

        # Each key signs only for its own issuers.
        assert unauthenticated(*await status_of(gw, partner.sign(citizen_claims(COMPLETE))))
        forged = es.sign(service_claims("caseworker-app", "citizen:read"))
        status, body = await gw.query(CITIZEN_LOOKUP, token=forged, variables={"nc": COMPLETE})
        assert unauthenticated(status, body)


async def test_jwks_keys_are_bound_to_their_issuers() -> None:
    """A partner's service JWKS configured next to the citizen SSO's: the partner cannot mint
    citizen tokens (any national code, `acr: 3`), nor the SSO's keys service tokens."""
    sso_key, partner_key = SigningKey.generate("sso-1"), SigningKey.generate("partner-1", "ES256")
    sso, partner = IdentityProvider([sso_key]), IdentityProvider([partner_key])
    async with serve_jwks(sso) as sso_url, serve_jwks(partner) as partner_url:
        tokens = production_tokens(jwks_url=sso_url, service_jwks_url=partner_url)
        async with running_gateway(**PRODUCTION, tokens=tokens) as gw:
            assert (await status_of(gw, sso_key.sign(citizen_claims(COMPLETE))))[0] == 200
            service = partner_key.sign(service_claims("partner-app", "citizen:read"))
            _, body = await gw.query(CITIZEN_LOOKUP, token=service, variables={"nc": COMPLETE})
            assert body["data"]["citizen"]["profile"]["firstName"]

            forged_citizen = partner_key.sign(citizen_claims(COMPLETE, acr="3"))
            assert unauthenticated(*await status_of(gw, forged_citizen))
            forged_service = sso_key.sign(service_claims("partner-app", "citizen:read"))
            status, body = await gw.query(
                CITIZEN_LOOKUP, token=forged_service, variables={"nc": COMPLETE}
            )
            assert unauthenticated(status, body)
            assert (sso.fetches, partner.fetches) == (1, 1)  # known kids: nothing refetched


async def test_one_jwks_for_both_kinds_of_token_is_fetched_once() -> None:
    key = SigningKey.generate("k")
    provider = IdentityProvider([key])
    async with serve_jwks(provider) as url:
        tokens = production_tokens(jwks_url=url, service_jwks_url=url)
        async with running_gateway(**PRODUCTION, tokens=tokens) as gw:
            assert (await status_of(gw, key.sign(citizen_claims(COMPLETE))))[0] == 200
            service = key.sign(service_claims("caseworker-app", "citizen:read"))
            _, body = await gw.query(CITIZEN_LOOKUP, token=service, variables={"nc": COMPLETE})
            assert body["data"]["citizen"]["profile"]["firstName"]
            assert provider.fetches == 1


async def test_a_slow_identity_provider_stalls_no_request() -> None:
    """Once the cached key set is stale, the refresh runs in the background: requests with a
    known key are answered while the provider takes 5 s to reply."""
    key = SigningKey.generate("k")
    provider = IdentityProvider([key])
    async with serve_jwks(provider) as url:
        tokens = production_tokens(
            jwks_url=url, jwks_cache_s=1, jwks_min_refresh_s=1, jwks_timeout_s=10
        )
        async with running_gateway(**PRODUCTION, tokens=tokens) as gw:
            token = key.sign(citizen_claims(COMPLETE))
            assert (await status_of(gw, token))[0] == 200
            provider.delay_s = 5.0
            await asyncio.sleep(1.1)  # the cached set is stale now
            started = time.perf_counter()
            results = await asyncio.gather(*(status_of(gw, token) for _ in range(20)))
            elapsed = time.perf_counter() - started
            assert all(status == 200 for status, _ in results)
            assert elapsed < 3.0, elapsed  # well under the provider's 5 s
            assert provider.fetches == 2  # one refresh, in the background


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
    return subprocess.run(
        [sys.executable, "server.py", *args],
        cwd=ROOT, env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_dev_token_commands_refuse_a_production_like_configuration() -> None:
    jwks = {"PANJEREH_TOKENS__JWKS_URL": "https://sso.test.example/jwks"}
    for command in (["dev-token", COMPLETE], ["service-token", "app", "--scope", "ops"]):
        result = _cli(*command, **jwks)  # development mode, but real keys are trusted
        assert result.returncode != 0 and "development" in result.stderr, result
        assert not result.stdout.strip()
    production = {
        **jwks,
        "PANJEREH_MODE": "production",
        "PANJEREH_TOKENS__ISSUERS": '["https://sso.test.example"]',
        "PANJEREH_TOKENS__SERVICE_ISSUERS": "[]",
        "PANJEREH_AGENCY_URLS": '{"water": "http://127.0.0.1:9"}',
        "PANJEREH_CACHE_KEY_SECRET": "k",
    }
    result = _cli("dev-token", COMPLETE, **production)
    assert result.returncode != 0 and not result.stdout.strip(), result
    assert _cli("dev-token", COMPLETE, "--acr", "2").returncode == 0  # the embedded default


def test_short_or_production_hs256_secrets_are_refused_without_printing_them() -> None:
    short = _cli("dev-token", COMPLETE, PANJEREH_TOKENS__DEV_SECRET="tiny-secret-123")
    assert short.returncode == 2 and "32 bytes" in short.stderr
    production = _cli(
        "dev-token",
        COMPLETE,
        PANJEREH_MODE="production",
        PANJEREH_TOKENS__DEV_SECRET="a-long-production-hmac-secret-0123456789",
        PANJEREH_AGENCY_URLS='{"water": "http://127.0.0.1:9"}',
        PANJEREH_CACHE_KEY_SECRET="cache-key-secret-value",
    )
    assert production.returncode == 2 and "HS256" in production.stderr
    for result, secret in ((short, "tiny-secret"), (production, "a-long-production")):
        assert secret not in result.stderr + result.stdout
    assert "cache-key-secret-value" not in production.stderr
