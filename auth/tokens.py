"""Bearer JWT verification (signature, expiry, audience, issuer) and development tokens.

Citizens log in upstream (the national window's SSO / OTP) and arrive with a JWT whose subject is
their national code; service clients carry `typ: service` and space-separated `scope`. In the
embedded development mode the gateway signs its own tokens with a development secret, so that
`python server.py dev-token <national code>` gives a working token with nothing else running.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

import jwt

from auth.principal import Principal, PrincipalKind
from domain.errors import InvalidInput, Unauthenticated
from domain.identifiers import parse_national_code

if TYPE_CHECKING:
    from settings import Settings

__all__ = ["TokenIssuer", "TokenVerifier"]

_ALGORITHMS = ("HS256",)


@dataclass(frozen=True)
class _TokenTrust:
    """What issuer and verifier share: the key, who issues, and for whom."""

    secret: str
    issuer: str
    audience: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            settings.jwt_secret.get_secret_value(), settings.jwt_issuer, settings.jwt_audience
        )


@dataclass(frozen=True)
class TokenVerifier(_TokenTrust):
    """Verifies bearer tokens signed with a shared secret."""

    leeway_s: float = 30.0

    def verify(self, token: str) -> Principal:
        """The principal of a valid token, or `Unauthenticated` saying what was wrong."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=list(_ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the bearer token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("the bearer token is not valid") from exc
        scopes = frozenset(str(claims.get("scope", "")).split())
        if claims.get("typ") == "service":
            return Principal(PrincipalKind.SERVICE, str(claims["sub"]), scopes)
        try:
            code = parse_national_code(str(claims["sub"]))
        except InvalidInput as exc:
            raise Unauthenticated("the token's subject is not a national code") from exc
        return Principal(PrincipalKind.CITIZEN, code, scopes)


@dataclass(frozen=True)
class TokenIssuer(_TokenTrust):
    """Signs development tokens that a `TokenVerifier` with the same settings accepts."""

    def citizen(self, national_code: str, ttl_s: int = 12 * 3600) -> str:
        return self._sign(parse_national_code(national_code), ttl_s, {})

    def service(self, client_id: str, scopes: list[str], ttl_s: int = 3600) -> str:
        return self._sign(client_id, ttl_s, {"typ": "service", "scope": " ".join(scopes)})

    def _sign(self, subject: str, ttl_s: int, extra: dict[str, str]) -> str:
        now = int(time.time())
        claims = {
            "sub": subject,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl_s,
            **extra,
        }
        return jwt.encode(claims, self.secret, algorithm=_ALGORITHMS[0])
