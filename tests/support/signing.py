"""An identity provider for tests: asymmetric signing keys, their JWKS, and a JWKS server.

`IdentityProvider` holds the keys it currently publishes; `serve_jwks` starts a small aiohttp app
on loopback that serves them (and counts the fetches), so that a key rotation in the middle of a
test is a change of `provider.keys` and a slow provider a change of `provider.delay_s`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

__all__ = [
    "ISSUER",
    "SERVICE_ISSUER",
    "IdentityProvider",
    "SigningKey",
    "citizen_claims",
    "production_tokens",
    "serve_jwks",
    "service_claims",
]

ISSUER = "https://sso.test.example"
SERVICE_ISSUER = "https://sso.test.example/clients"
AUDIENCE = "panjereh"


@dataclass
class SigningKey:
    """A private key with its `kid` and the one algorithm it signs with."""

    kid: str
    algorithm: str
    private: Any = field(repr=False)

    @classmethod
    def generate(cls, kid: str, algorithm: str = "RS256") -> SigningKey:
        if algorithm == "RS256":
            private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif algorithm == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        elif algorithm == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(algorithm)
        return cls(kid, algorithm, private)

    def jwk(self, *, with_alg: bool = True) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        entry = json.loads(algorithm.to_jwk(self.private.public_key()))
        entry.update({"kid": self.kid, "use": "sig"})
        if with_alg:
            entry["alg"] = self.algorithm
        return entry

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def write_pem(self, directory: Path) -> Path:
        path = directory / f"{self.kid}.pem"
        path.write_bytes(self.public_pem())
        return path

    def sign(self, claims: dict[str, Any], *, kid: bool = True, **headers: Any) -> str:
        header = {"kid": self.kid, **headers} if kid else headers
        return jwt.encode(claims, self.private, algorithm=self.algorithm, headers=header)


def citizen_claims(national_code: str, *, ttl_s: int = 600, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": national_code,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl_s,
        "acr": "3",
        **extra,
    }


def service_claims(client_id: str, scope: str, *, ttl_s: int = 600, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": f"client-{client_id}",
        "client_id": client_id,
        "scope": scope,
        "iss": SERVICE_ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl_s,
        **extra,
    }


@dataclass
class IdentityProvider:
    """The keys published in the JWKS, how often the JWKS was fetched, and how long it takes
    to answer."""

    keys: list[SigningKey]
    fetches: int = 0
    delay_s: float = 0.0

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in self.keys]}


@asynccontextmanager
async def serve_jwks(provider: IdentityProvider) -> AsyncIterator[str]:
    """Serve `provider`'s JWKS on loopback; yields its URL."""

    async def jwks(request: web.Request) -> web.Response:
        provider.fetches += 1
        await asyncio.sleep(provider.delay_s)
        return web.json_response(provider.jwks())

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", jwks)
    # A fetch the gateway abandons (shutdown) ends its handler: a slow provider holds up no test.
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/.well-known/jwks.json"
    finally:
        await runner.cleanup()


def production_tokens(**overrides: Any) -> dict[str, Any]:
    """The `tokens` settings of a production-like gateway trusting the test provider. Service
    tokens need keys of their own (`service_jwks_url` / `service_pem_files`); without them the
    gateway has no service issuer."""
    service_keys = {"service_jwks_url", "service_pem_files"} & overrides.keys()
    return {
        "issuers": [ISSUER],
        "service_issuers": [SERVICE_ISSUER] if service_keys else [],
        "audience": AUDIENCE,
        **overrides,
    }
