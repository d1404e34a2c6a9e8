"""Bearer JWT verification (key, algorithm, issuer, audience, age) and development tokens.

Citizens log in upstream (the national window's SSO / OTP) and arrive with a JWT whose subject is
their national code and whose `acr` is their authentication level. Service clients are told apart
by their issuer: a token from one of `service_issuers` is a service client named by `client_id`
(or `azp`, else `sub`) with the space-separated `scope`. Each group of issuers is verified only
with its own keys (`auth/issuers.py`), so a service key cannot sign a citizen token.

Every check of time uses the injected clock, so tests never wait: `exp` (with leeway), `nbf`,
`iat` (required, not in the future), a lifetime `exp - iat` and an age `now - iat` of at most
`max_age_s` — a token valid for a hundred years is refused however well it is signed. Time
claims must be finite JSON numbers (`NaN`, `Infinity` and strings are refused).

In development mode with no asymmetric key configured, the gateway signs its own HS256 tokens with
the development secret, so that `python server.py dev-token <national code>` gives a working
token with nothing else running; `TokenIssuer.from_settings` refuses any other configuration.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from auth.issuers import IssuerGroup, TrustedIssuers
from auth.jwks import JwksSource
from auth.keys import VerificationKey
from auth.principal import MAX_LEVEL, Principal, PrincipalKind
from auth.trust import TokenTrust
from domain.errors import InvalidInput, Unauthenticated
from domain.identifiers import parse_national_code

if TYPE_CHECKING:
    from settings import Settings

__all__ = ["TokenIssuer", "TokenVerifier", "level_of"]

_REQUIRED = ["exp", "iat", "sub", "iss", "aud"]
_OPTIONS: dict[str, Any] = {
    "require": _REQUIRED,
    "verify_exp": False,  # checked below against the injected clock
    "verify_iat": False,
    "verify_nbf": False,
}


def level_of(acr: object) -> int:
    """The authentication level an `acr` claim states: 1–3, and 1 when absent or unknown."""
    if isinstance(acr, bool):
        return 1
    if isinstance(acr, int) and 1 <= acr <= MAX_LEVEL:
        return acr
    if isinstance(acr, str) and acr.strip() in {str(n) for n in range(1, MAX_LEVEL + 1)}:
        return int(acr.strip())
    return 1


class TokenVerifier:
    """Verifies bearer tokens against the keys trusted for their issuer (see `auth/issuers.py`)."""

    def __init__(
        self,
        trust: TokenTrust,
        issuers: TrustedIssuers,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._trust = trust
        self._issuers = issuers
        self._clock = clock

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        citizen_jwks: JwksSource | None = None,
        service_jwks: JwksSource | None = None,
        clock: Callable[[], float] = time.time,
    ) -> TokenVerifier:
        issuers = TrustedIssuers.from_settings(
            settings, citizen_jwks=citizen_jwks, service_jwks=service_jwks
        )
        return cls(settings.tokens, issuers, clock=clock)

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token, or `Unauthenticated` saying what was wrong."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("the bearer token is not valid", reason="malformed") from exc
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("the bearer token is not valid", reason="malformed")
        group = self._issuers.group_of(unverified.get("iss"))  # only to choose the keys
        if group is None:
            raise Unauthenticated("the bearer token is not valid", reason="untrusted")
        keys = await group.keys.candidates(kid, header.get("alg"))
        claims = self._decode(token, keys, group)
        expires_at = self._check_times(claims)
        return self._principal(claims, group.kind, expires_at)

    def _decode(
        self, token: str, keys: Iterable[VerificationKey], group: IssuerGroup
    ) -> dict[str, Any]:
        failure: jwt.InvalidTokenError | None = None
        for key in keys:
            try:
                return jwt.decode(
                    token,
                    key.key,
                    algorithms=[key.algorithm],
                    audience=self._trust.audience,
                    issuer=group.issuers,
                    options=_OPTIONS,
                )
            except jwt.InvalidSignatureError as exc:
                failure = exc  # another candidate key may match
            except jwt.InvalidTokenError as exc:
                raise Unauthenticated("the bearer token is not valid") from exc
        raise Unauthenticated(
            "the bearer token is not signed by a trusted key", reason="untrusted"
        ) from failure

    def _check_times(self, claims: dict[str, Any]) -> float:
        """Check exp/iat/nbf against the clock; returns `exp`."""
        now, leeway, max_age = self._clock(), self._trust.leeway_s, self._trust.max_age_s
        exp, iat = _numeric_date(claims["exp"]), _numeric_date(claims["iat"])
        nbf = _numeric_date(claims["nbf"]) if "nbf" in claims else iat
        if exp <= now - leeway:
            raise Unauthenticated("the bearer token has expired", reason="expired")
        if iat > now + leeway or nbf > now + leeway:
            raise Unauthenticated("the bearer token is not valid yet", reason="not_yet_valid")
        if exp - iat > max_age:
            raise Unauthenticated(
                f"the bearer token lives longer than {max_age} s", reason="lifetime"
            )
        if now - iat > max_age + leeway:
            raise Unauthenticated("the bearer token is too old", reason="lifetime")
        return exp

    def _principal(
        self, claims: dict[str, Any], kind: PrincipalKind, expires_at: float
    ) -> Principal:
        if kind is PrincipalKind.SERVICE:
            client = claims.get("client_id") or claims.get("azp") or claims["sub"]
            scope = claims.get("scope", "")
            scopes = frozenset(scope.split() if isinstance(scope, str) else ())
            return Principal(
                PrincipalKind.SERVICE, str(client), scopes, level=1, expires_at=expires_at
            )
        try:
            code = parse_national_code(str(claims["sub"]))
        except InvalidInput as exc:
            raise Unauthenticated("the token's subject is not a national code") from exc
        return Principal(
            PrincipalKind.CITIZEN,
            code,
            level=level_of(claims.get("acr")),
            expires_at=expires_at,
        )


def _numeric_date(value: object) -> float:
    """A time claim as RFC 7519 has it: a finite JSON number. Python's json reads `NaN` and
    `Infinity`, which compare False with everything, so they would never expire."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthenticated("the bearer token's time claims are not valid")
    try:
        number = float(value)
    except OverflowError as exc:  # an integer too large for a float
        raise Unauthenticated("the bearer token's time claims are not valid") from exc
    if not math.isfinite(number):
        raise Unauthenticated("the bearer token's time claims are not valid")
    return number


@dataclass(frozen=True)
class TokenIssuer:
    """Signs development tokens that the development `TokenVerifier` accepts."""

    secret: str
    issuer: str
    service_issuer: str
    audience: str
    max_age_s: int
    clock: Callable[[], float] = time.time

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenIssuer:
        """The development issuer; `PermissionError` with a production-like configuration."""
        trust = settings.tokens
        secret = trust.dev_secret_for(settings.mode)
        if secret is None or not trust.service_issuers:
            raise PermissionError(
                "development tokens exist only in development mode with no JWKS or PEM keys"
            )
        return cls(
            secret, trust.issuers[0], trust.service_issuers[0], trust.audience, trust.max_age_s
        )

    def citizen(self, national_code: str, ttl_s: int = 12 * 3600, *, acr: int = 3) -> str:
        if not 1 <= acr <= MAX_LEVEL:
            raise InvalidInput("acr", f"the authentication level must be 1–{MAX_LEVEL}")
        return self._sign(parse_national_code(national_code), self.issuer, ttl_s, {"acr": str(acr)})

    def service(self, client_id: str, scopes: list[str], ttl_s: int = 3600) -> str:
        return self._sign(
            client_id,
            self.service_issuer,
            ttl_s,
            {"client_id": client_id, "scope": " ".join(scopes)},
        )

    def _sign(self, subject: str, issuer: str, ttl_s: int, extra: dict[str, str]) -> str:
        if not 0 < ttl_s <= self.max_age_s:
            raise InvalidInput("ttl", f"a token's lifetime must be 1–{self.max_age_s} seconds")
        now = int(self.clock())
        claims = {
            "sub": subject,
            "iss": issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl_s,
            **extra,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")
