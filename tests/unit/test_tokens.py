"""Bearer token verification: signature, expiry, audience, issuer, subject."""

from __future__ import annotations

import time

import jwt
import pytest

from auth.principal import PrincipalKind, Scope
from auth.tokens import TokenIssuer, TokenVerifier
from domain.errors import InvalidInput, Unauthenticated

SECRET, ISS, AUD = "s" * 32, "panjereh-test", "panjereh"
verifier = TokenVerifier(SECRET, ISS, AUD, leeway_s=0)
issuer = TokenIssuer(SECRET, ISS, AUD)


def test_citizen_token_round_trip_with_persian_digits() -> None:
    principal = verifier.verify(issuer.citizen("۰۰۱۲۳۴۵۶۷۹"))
    assert principal.kind is PrincipalKind.CITIZEN
    assert principal.national_code == "0012345679"


def test_service_token_carries_scopes() -> None:
    principal = verifier.verify(issuer.service("caseworker-app", ["citizen:read"]))
    assert principal.kind is PrincipalKind.SERVICE and principal.national_code is None
    assert principal.has(Scope.CITIZEN_READ) and not principal.has(Scope.OPS)


def test_issuer_refuses_an_invalid_national_code() -> None:
    with pytest.raises(InvalidInput):
        issuer.citizen("0012345670")


@pytest.mark.parametrize(
    ("claims", "secret", "message"),
    [
        ({"exp": -10}, SECRET, "expired"),
        ({}, "another-secret-of-enough-length-00", "not valid"),
        ({"aud": "someone-else"}, SECRET, "not valid"),
        ({"iss": "someone-else"}, SECRET, "not valid"),
        ({"sub": "0012345670"}, SECRET, "subject"),
    ],
)
def test_bad_tokens_are_unauthenticated(claims: dict, secret: str, message: str) -> None:
    now = int(time.time())
    base = {"sub": "0012345679", "iss": ISS, "aud": AUD, "exp": now + 60}
    if "exp" in claims:
        claims = {**claims, "exp": now + claims["exp"]}
    token = jwt.encode({**base, **claims}, secret, algorithm="HS256")
    with pytest.raises(Unauthenticated, match=message):
        verifier.verify(token)


def test_unsigned_tokens_are_refused() -> None:
    token = jwt.encode(
        {"sub": "0012345679", "iss": ISS, "aud": AUD, "exp": int(time.time()) + 60},
        key=None,
        algorithm="none",
    )
    with pytest.raises(Unauthenticated):
        verifier.verify(token)


def test_garbage_is_unauthenticated() -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify("not-a-jwt")
