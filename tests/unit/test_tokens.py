"""Token trust: keys pinned to their algorithm and bound to their issuers, issuer/audience/age
checks, finite time claims, JWKS refresh policy (a slow provider stalls no request), development
tokens only where no real key is trusted. No sockets: a scripted fetch, a fake clock."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from auth.connection import ConnectionAuth
from auth.issuers import IssuerGroup, KeySource, TrustedIssuers
from auth.jwks import JwksSource, JwksUnavailable
from auth.keys import KeySet
from auth.principal import PrincipalKind, Scope
from auth.tokens import TokenIssuer, TokenVerifier, level_of
from auth.trust import DEV_JWT_SECRET, TokenTrust
from domain.errors import InvalidInput, Unauthenticated
from server import configuration_errors
from settings import Settings
from tests.support.signing import SigningKey

ISS, SVC, AUD = "https://sso.test", "https://sso.test/clients", "panjereh"
NOW = 1_800_000_000.0
CODE = "0012345679"

RSA = SigningKey.generate("rsa-1", "RS256")
EC = SigningKey.generate("ec-1", "ES256")
ED = SigningKey.generate("ed-1", "EdDSA")
PARTNER = SigningKey.generate("partner-1", "ES256")  # signs service tokens only


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def trust(**overrides: Any) -> TokenTrust:
    return TokenTrust(
        **{"issuers": [ISS], "service_issuers": [SVC], "audience": AUD, "leeway_s": 0, **overrides}
    )


def claims(**overrides: Any) -> dict[str, Any]:
    return {
        "sub": CODE,
        "iss": ISS,
        "aud": AUD,
        "iat": int(NOW),
        "exp": int(NOW) + 600,
        **overrides,
    }


def service_claims(**overrides: Any) -> dict[str, Any]:
    return claims(**{"iss": SVC, "sub": "svc-123", "client_id": "caseworker-app", **overrides})


def issuers(
    settings: TokenTrust, citizen: KeySource | None = None, service: KeySource | None = None
) -> TrustedIssuers:
    """Citizen issuers trusting RSA/EC/ED, service issuers trusting PARTNER (unless given)."""
    citizen = citizen or KeySource(KeySet.from_jwks({"keys": [RSA.jwk(), EC.jwk(), ED.jwk()]}))
    service = service or KeySource(KeySet.from_jwks({"keys": [PARTNER.jwk()]}))
    return TrustedIssuers(
        IssuerGroup(PrincipalKind.CITIZEN, frozenset(settings.issuers), citizen),
        IssuerGroup(PrincipalKind.SERVICE, frozenset(settings.service_issuers), service),
    )


def verifier(**trust_overrides: Any) -> TokenVerifier:
    settings = trust(**trust_overrides)
    return TokenVerifier(settings, issuers(settings), clock=Clock())


# -- keys ------------------------------------------------------------------------------------


def test_jwks_keys_are_pinned_to_their_algorithm_from_alg_or_key_type() -> None:
    keys = KeySet.from_jwks(
        {
            "keys": [
                RSA.jwk(with_alg=False),
                EC.jwk(with_alg=False),
                ED.jwk(with_alg=False),
                {"kty": "oct", "kid": "shared", "k": "c2VjcmV0"},  # never from a key set
                {**SigningKey.generate("enc").jwk(), "use": "enc"},
                {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
                "not a key",
            ]
        }
    )
    assert {kid: key.algorithm for kid, key in keys.by_kid.items()} == {
        "rsa-1": "RS256",
        "ec-1": "ES256",
        "ed-1": "EdDSA",
    }


def test_a_jwks_without_a_key_list_is_refused() -> None:
    with pytest.raises(ValueError, match="keys"):
        KeySet.from_jwks({"keys": "nope"})


@pytest.mark.parametrize("key", [RSA, EC, ED], ids=lambda k: k.algorithm)
async def test_asymmetric_tokens_verify(key: SigningKey) -> None:
    principal = await verifier().verify(key.sign(claims(acr="2")))
    assert principal.kind is PrincipalKind.CITIZEN and principal.national_code == CODE
    assert principal.level == 2 and principal.expires_at == NOW + 600


async def test_the_algorithm_comes_from_the_key_not_the_header() -> None:
    other_alg = jwt.encode(claims(), RSA.private, algorithm="RS384", headers={"kid": RSA.kid})
    with pytest.raises(Unauthenticated):
        await verifier().verify(other_alg)


async def test_an_rsa_public_key_is_never_an_hmac_secret() -> None:
    """The classic HS/RS confusion: HS256 over the public key's PEM, with the RSA key's kid."""

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": RSA.kid}).encode())
        + b"."
        + b64(json.dumps(claims()).encode())
    )
    signature = hmac.new(RSA.public_pem(), signing_input, hashlib.sha256).digest()
    forged = (signing_input + b"." + b64(signature)).decode()
    with pytest.raises(Unauthenticated):
        await verifier().verify(forged)
    kidless = forged.split(".", 1)[1]  # and without a kid no asymmetric key is an HS256 key
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).decode()
    with pytest.raises(Unauthenticated):
        await verifier().verify(f"{header}.{kidless}")


async def test_unsigned_tokens_are_refused() -> None:
    for headers in ({"kid": RSA.kid}, {}):
        token = jwt.encode(claims(), key=None, algorithm="none", headers=headers)
        with pytest.raises(Unauthenticated):
            await verifier().verify(token)


async def test_a_key_that_is_not_trusted_is_refused() -> None:
    stranger = SigningKey.generate(RSA.kid)  # same kid, other key
    with pytest.raises(Unauthenticated, match="trusted key"):
        await verifier().verify(stranger.sign(claims()))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"iss": "https://elsewhere"}, "not valid"),
        ({"aud": "someone-else"}, "not valid"),
        ({"exp": int(NOW) - 1}, "expired"),
        ({"iat": int(NOW) + 120}, "not valid yet"),
        ({"nbf": int(NOW) + 120}, "not valid yet"),
        ({"iat": int(NOW) - 2 * 86400, "exp": int(NOW) + 60}, "longer than"),
        ({"exp": int(NOW) + 100 * 365 * 86400}, "longer than"),  # the 100-year token
        ({"sub": "0012345670"}, "subject"),
    ],
)
async def test_bad_claims_are_unauthenticated(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(Unauthenticated, match=message):
        await verifier().verify(RSA.sign(claims(**overrides)))


@pytest.mark.parametrize("missing", ["iat", "exp", "iss", "aud", "sub"])
async def test_required_claims(missing: str) -> None:
    token = RSA.sign({k: v for k, v in claims().items() if k != missing})
    with pytest.raises(Unauthenticated):
        await verifier().verify(token)


async def test_a_token_older_than_the_maximum_age_is_refused() -> None:
    token = RSA.sign(claims(iat=int(NOW) - 3000, exp=int(NOW) + 500))
    assert await verifier(max_age_s=3600).verify(token)
    with pytest.raises(Unauthenticated, match="longer than"):
        await verifier(max_age_s=3000).verify(token)


async def test_service_clients_are_told_apart_by_issuer() -> None:
    principal = await verifier().verify(PARTNER.sign(service_claims(scope="citizen:read ops")))
    assert principal.kind is PrincipalKind.SERVICE and principal.subject == "caseworker-app"
    assert principal.has(Scope.CITIZEN_READ) and principal.has(Scope.OPS)
    # The same claims from the citizen issuer are a citizen token (and `sub` is no national code).
    with pytest.raises(Unauthenticated, match="subject"):
        await verifier().verify(RSA.sign(claims(sub="svc-123", client_id="caseworker-app")))


def raw_token(key: SigningKey, payload: str) -> str:
    """A token over a payload written as JSON text (Python's json reads NaN and Infinity)."""
    return jwt.api_jws.encode(payload.encode(), key.private, key.algorithm, {"kid": key.kid})


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", "NaN"),
        ("iat", "NaN"),
        ("nbf", "NaN"),
        ("exp", "Infinity"),
        ("iat", "-Infinity"),
        ("nbf", "-Infinity"),
        ("exp", '"1800000600"'),
        ("iat", '"1800000000"'),
        ("exp", "true"),
        ("exp", "null"),
        ("exp", "[1800000600]"),
        ("exp", "1" + "0" * 400),  # an integer no float holds
    ],
)
async def test_time_claims_must_be_finite_numbers(claim: str, value: str) -> None:
    """`exp: NaN` compared False with everything, so such a token never expired."""
    times = {"exp": str(int(NOW) + 600), "iat": str(int(NOW)), claim: value}
    payload = (
        f'{{"sub": "{CODE}", "iss": "{ISS}", "aud": "{AUD}", "acr": "3", '
        + ", ".join(f'"{name}": {text}' for name, text in times.items())
        + "}"
    )
    with pytest.raises(Unauthenticated):
        await verifier().verify(raw_token(RSA, payload))


async def test_fractional_time_claims_still_verify() -> None:
    principal = await verifier().verify(RSA.sign(claims(iat=NOW - 0.5, exp=NOW + 59.5)))
    assert principal.expires_at == NOW + 59.5


# -- keys bound to issuers -------------------------------------------------------------------


async def test_a_service_key_cannot_sign_a_citizen_token() -> None:
    """A partner's service key next to the citizen keys must not mint citizens at level 3."""
    forged = claims(acr="3")
    for token in (PARTNER.sign(forged), PARTNER.sign(forged, kid=False)):
        with pytest.raises(Unauthenticated, match="trusted key"):
            await verifier().verify(token)


async def test_a_citizen_key_cannot_sign_a_service_token() -> None:
    forged = service_claims(scope="citizen:read ops")
    for key in (RSA, EC, ED):
        with pytest.raises(Unauthenticated, match="trusted key"):
            await verifier().verify(key.sign(forged))


async def test_keys_from_settings_are_bound_to_their_issuers(tmp_path: Path) -> None:
    settings = Settings(
        tokens={
            "pem_files": [RSA.write_pem(tmp_path)],
            "service_pem_files": [PARTNER.write_pem(tmp_path)],
            "issuers": [ISS],
            "service_issuers": [SVC],
        }
    )
    v = TokenVerifier.from_settings(settings, clock=Clock())
    assert (await v.verify(RSA.sign(claims()))).kind is PrincipalKind.CITIZEN
    assert (await v.verify(PARTNER.sign(service_claims()))).kind is PrincipalKind.SERVICE
    for token in (PARTNER.sign(claims()), RSA.sign(service_claims())):
        with pytest.raises(Unauthenticated, match="trusted key"):
            await v.verify(token)


async def test_an_untrusted_or_malformed_issuer_is_refused_before_any_fetch() -> None:
    fetch, settings = ScriptedJwks(RSA), trust()
    source = KeySource(jwks=JwksSource(fetch, clock=Clock()))
    v = TokenVerifier(settings, issuers(settings, citizen=source), clock=Clock())
    await v.verify(RSA.sign(claims()))
    stranger = SigningKey.generate("unknown-kid")
    for iss in ("https://elsewhere", [ISS], None, 7):
        with pytest.raises(Unauthenticated, match="not valid"):
            await v.verify(raw_token(stranger, json.dumps(claims(iss=iss))))
    assert fetch.calls == 1


@pytest.mark.parametrize(
    ("acr", "level"), [(None, 1), ("1", 1), ("2", 2), (3, 3), ("4", 1), ("urn:x", 1), (True, 1)]
)
def test_acr_levels(acr: object, level: int) -> None:
    assert level_of(acr) == level


# -- JWKS refresh ----------------------------------------------------------------------------


class ScriptedJwks:
    """A fetch returning whatever `document` is now; counts calls; can fail; and, while `gate`
    is closed, does not answer at all (an identity provider as slow as the test wants)."""

    def __init__(self, *keys: SigningKey) -> None:
        self.document: dict[str, Any] = {"keys": [k.jwk() for k in keys]}
        self.calls = 0
        self.fail = False
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        await asyncio.sleep(0)
        await self.gate.wait()
        if self.fail:
            raise JwksUnavailable("HTTP 503")
        return self.document


def jwks_verifier(fetch: ScriptedJwks, clock: Clock) -> tuple[TokenVerifier, JwksSource]:
    source = JwksSource(fetch, cache_s=300, min_refresh_s=30, clock=clock)
    settings = trust()
    v = TokenVerifier(settings, issuers(settings, citizen=KeySource(jwks=source)), clock=Clock())
    return v, source


async def test_kid_rotation_refreshes_once_and_random_kids_do_not_make_it_fetch() -> None:
    old, new = SigningKey.generate("old"), SigningKey.generate("new")
    fetch, clock = ScriptedJwks(old), Clock()
    v, _ = jwks_verifier(fetch, clock)
    assert await v.verify(old.sign(claims()))
    assert await v.verify(old.sign(claims()))
    assert fetch.calls == 1  # cached, not fetched per request

    fetch.document = {"keys": [new.jwk()]}  # rotation: the old key is removed
    clock.now += 31
    assert (await v.verify(new.sign(claims()))).national_code == CODE
    assert fetch.calls == 2
    with pytest.raises(Unauthenticated):
        await v.verify(old.sign(claims()))  # unknown now; refreshed 0 s ago: no fetch
    stranger = SigningKey.generate("x")
    for _ in range(50):
        stranger.kid = uuid.uuid4().hex
        with pytest.raises(Unauthenticated):
            await v.verify(stranger.sign(claims()))
    assert fetch.calls == 2
    clock.now += 31
    with pytest.raises(Unauthenticated):
        await v.verify(stranger.sign(claims()))
    assert fetch.calls == 3  # at most one fetch per interval


async def test_a_burst_of_tokens_with_a_new_kid_makes_one_fetch() -> None:
    old, new = SigningKey.generate("old"), SigningKey.generate("new")
    fetch, clock = ScriptedJwks(old), Clock()
    v, _ = jwks_verifier(fetch, clock)
    await v.verify(old.sign(claims()))
    fetch.document = {"keys": [old.jwk(), new.jwk()]}
    clock.now += 60
    token = new.sign(claims())
    principals = await asyncio.gather(*(v.verify(token) for _ in range(20)))
    assert len(principals) == 20 and fetch.calls == 2


async def test_the_cache_expires_and_a_failed_refresh_keeps_the_last_keys() -> None:
    key = SigningKey.generate("k")
    fetch, clock = ScriptedJwks(key), Clock()
    v, source = jwks_verifier(fetch, clock)
    await v.verify(key.sign(claims()))
    clock.now += 301
    fetch.fail = True
    assert await v.verify(key.sign(claims()))  # the stale set serves; refresh in the background
    await source.settled()
    assert fetch.calls == 2
    for _ in range(3):
        clock.now += 9
        assert await v.verify(key.sign(claims()))
        await source.settled()
    assert fetch.calls == 2  # a failing provider is not hammered either
    clock.now += 3
    fetch.fail = False
    await v.verify(key.sign(claims()))
    await source.settled()
    assert fetch.calls == 3
    clock.now += 100
    await v.verify(key.sign(claims()))
    await source.settled()
    assert fetch.calls == 3  # fresh again: no fetch until cache_s has passed


async def test_a_slow_identity_provider_stalls_no_request_with_a_known_key() -> None:
    """The cache expires and the provider takes as long as it likes (here: until the test opens
    the gate; a 2 s timeout in production): verifications with a known key do not wait for it,
    one refresh runs in the background, and an unknown `kid` waits for that same refresh."""
    key, rotated = SigningKey.generate("k"), SigningKey.generate("rotated")
    fetch, clock = ScriptedJwks(key), Clock()
    v, _ = jwks_verifier(fetch, clock)
    await v.verify(key.sign(claims()))
    clock.now += 301
    fetch.gate.clear()
    fetch.document = {"keys": [key.jwk(), rotated.jwk()]}

    token = key.sign(claims())
    principals = await asyncio.wait_for(
        asyncio.gather(*(v.verify(token) for _ in range(100))), timeout=2
    )
    assert len(principals) == 100 and all(p.national_code == CODE for p in principals)
    assert fetch.calls == 2  # one refresh, still in flight

    waiting = asyncio.ensure_future(v.verify(rotated.sign(claims())))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # an unknown kid waits for the refresh in flight…
    fetch.gate.set()
    assert (await asyncio.wait_for(waiting, timeout=2)).national_code == CODE
    assert fetch.calls == 2  # …and makes no second one


async def test_a_provider_that_is_down_is_retried_in_the_background_only() -> None:
    key = SigningKey.generate("k")
    fetch, clock = ScriptedJwks(key), Clock()
    v, source = jwks_verifier(fetch, clock)
    await v.verify(key.sign(claims()))
    fetch.gate.clear()  # down: every fetch hangs until its timeout
    for step in range(10):
        clock.now += 301 if step == 0 else 10
        await asyncio.wait_for(v.verify(key.sign(claims())), timeout=2)
    assert fetch.calls == 2  # one attempt still hanging; none started beside it
    fetch.fail = True
    fetch.gate.set()
    await source.settled()
    clock.now += 30
    await v.verify(key.sign(claims()))
    await source.settled()
    assert fetch.calls == 3  # the next attempt once min_refresh_s has passed since the last


async def test_with_no_keys_yet_a_request_waits_for_the_first_fetch_once() -> None:
    key = SigningKey.generate("k")
    fetch, clock = ScriptedJwks(key), Clock()
    fetch.fail = True
    v, _ = jwks_verifier(fetch, clock)
    with pytest.raises(Unauthenticated):
        await v.verify(key.sign(claims()))
    with pytest.raises(Unauthenticated):
        await v.verify(key.sign(claims()))
    assert fetch.calls == 1  # the provider is down: retried once per min_refresh_s
    fetch.fail = False
    clock.now += 30
    assert await v.verify(key.sign(claims()))
    assert fetch.calls == 2


async def test_closing_cancels_a_refresh_in_flight() -> None:
    key = SigningKey.generate("k")
    fetch, clock = ScriptedJwks(key), Clock()
    v, source = jwks_verifier(fetch, clock)
    await v.verify(key.sign(claims()))
    clock.now += 301
    fetch.gate.clear()
    await v.verify(key.sign(claims()))
    await asyncio.sleep(0)
    await asyncio.wait_for(source.aclose(), timeout=1)
    assert fetch.calls == 2


# -- WebSocket connections -------------------------------------------------------------------


async def test_a_connection_refuses_a_token_with_odd_time_claims() -> None:
    expired = asyncio.Event()

    async def on_expiry() -> None:
        expired.set()

    payload = f'{{"sub": "{CODE}", "iss": "{ISS}", "aud": "{AUD}", "iat": {int(NOW)}, "exp": NaN}}'
    connection = ConnectionAuth(verifier(), on_expiry=on_expiry, clock=Clock())
    with pytest.raises(Unauthenticated):
        await connection.accept(raw_token(RSA, payload))
    await connection.close()
    assert not expired.is_set()


async def test_a_connection_closes_when_its_token_expires() -> None:
    expired = asyncio.Event()

    async def on_expiry() -> None:
        expired.set()

    clock = Clock()
    v = TokenVerifier(trust(leeway_s=30), issuers(trust()), clock=clock)
    # Expired 10 s ago, inside the leeway: accepted, and the timer fires at once.
    late = RSA.sign(claims(iat=int(NOW) - 100, exp=int(NOW) - 10))
    connection = ConnectionAuth(v, on_expiry=on_expiry, clock=clock)
    assert await connection.accept(late)
    await asyncio.wait_for(expired.wait(), timeout=1)
    with pytest.raises(Unauthenticated, match="expired"):
        await connection.principal()
    await connection.close()

    expired.clear()
    connection = ConnectionAuth(v, on_expiry=on_expiry, clock=clock)
    assert await connection.accept(RSA.sign(claims()))  # 600 s to go
    await asyncio.sleep(0.01)
    assert not expired.is_set() and await connection.principal()
    await connection.close()
    assert not expired.is_set()


# -- development tokens and configuration ----------------------------------------------------


async def test_development_tokens_round_trip() -> None:
    settings = Settings()
    issuer, dev = TokenIssuer.from_settings(settings), TokenVerifier.from_settings(settings)
    citizen = await dev.verify(issuer.citizen("۰۰۱۲۳۴۵۶۷۹", acr=2))
    assert citizen.national_code == CODE and citizen.level == 2
    service = await dev.verify(issuer.service("caseworker-app", ["citizen:read"]))
    assert service.kind is PrincipalKind.SERVICE and service.has(Scope.CITIZEN_READ)
    with pytest.raises(InvalidInput):
        issuer.citizen("0012345670")
    with pytest.raises(InvalidInput, match="lifetime"):
        issuer.citizen(CODE, ttl_s=100 * 365 * 86400)


async def test_hs256_is_not_trusted_once_real_keys_are(tmp_path: Any) -> None:
    pem = RSA.write_pem(tmp_path)
    settings = Settings(tokens={"pem_files": [pem]})
    with pytest.raises(PermissionError):
        TokenIssuer.from_settings(settings)
    dev_token = TokenIssuer.from_settings(Settings()).citizen(CODE)
    with pytest.raises(Unauthenticated):
        await TokenVerifier.from_settings(settings).verify(dev_token)
    with pytest.raises(PermissionError):
        TokenIssuer.from_settings(Settings(tokens={"jwks_url": "https://sso.test/jwks"}))


def test_a_short_secret_is_refused_and_never_printed() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(tokens={"dev_secret": "x-secret-value"})
    assert "32 bytes" in configuration_errors(caught.value)
    assert "x-secret-value" not in configuration_errors(caught.value)
    assert Settings(tokens={"dev_secret": "y" * 32}).tokens.dev_secret_for("development")


@pytest.mark.parametrize(
    "tokens",
    [
        {},  # HS256 with the development secret
        {"dev_secret": "a-production-secret-of-enough-length-000"},  # HS256 with a real secret
        {"dev_secret": "s", "jwks_url": "https://sso.test/jwks", "issuers": [ISS]},
        {"jwks_url": "https://sso.test/jwks"},  # still the development issuer
        {"jwks_url": "https://sso.test/jwks", "issuers": [ISS]},  # the development service one
        # Service issuers with no keys of their own: the citizen keys do not sign for them.
        {"jwks_url": "https://sso.test/jwks", "issuers": [ISS], "service_issuers": [SVC]},
        {"service_jwks_url": "https://sso.test/jwks", "issuers": [ISS], "service_issuers": [SVC]},
    ],
)
def test_production_refuses_hs256_and_development_issuers(tokens: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(
            mode="production", agency_urls={"x": "http://x"}, cache_key_secret="k", tokens=tokens
        )
    message = configuration_errors(caught.value)
    assert "tokens" in message or "production" in message
    assert "a-production-secret" not in message and DEV_JWT_SECRET not in message


def test_production_with_a_jwks_and_issuers_starts() -> None:
    settings = Settings(
        mode="production",
        agency_urls={"x": "http://x"},
        cache_key_secret="k",
        tokens={
            "jwks_url": "https://sso.test/jwks",
            "service_jwks_url": "https://sso.test/clients/jwks",
            "issuers": [ISS],
            "service_issuers": [SVC],
        },
        audit={"path": "/tmp/audit.jsonl", "key_secret": "a" * 32},
    )
    assert settings.tokens.dev_secret_for(settings.mode) is None
