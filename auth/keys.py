"""Verification keys, each pinned to one algorithm that comes from the key, never from a token.

A JWK's algorithm is its `alg`, or what its `kty`/`crv` imply (RSA → RS256, EC P-256 → ES256,
OKP Ed25519 → EdDSA); a PEM key's is implied by its type. Symmetric JWKs (`kty: oct`) are never
taken from a key set: the only HMAC key is the development secret, which exists only in
development mode. A token's header may *select* a key (`kid`, or `alg` among keys without a kid)
but the signature is checked with the key's own algorithm alone, so an RS256 public key can never
be used as an HS256 secret and `alg: none` matches no key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

__all__ = ["ASYMMETRIC_ALGORITHMS", "KeySet", "VerificationKey", "hmac_key", "key_from_pem"]

log = logging.getLogger("panjereh.auth")

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A key and the one algorithm it verifies."""

    kid: str | None
    algorithm: str
    key: Any = field(repr=False)


@dataclass(frozen=True)
class KeySet:
    """Keys by `kid`, plus keys without one (PEM files, the development secret)."""

    by_kid: Mapping[str, VerificationKey] = field(default_factory=dict)
    unnamed: tuple[VerificationKey, ...] = ()

    @classmethod
    def of(cls, keys: Iterable[VerificationKey]) -> KeySet:
        named: dict[str, VerificationKey] = {}
        unnamed: list[VerificationKey] = []
        for key in keys:
            if key.kid is None:
                unnamed.append(key)
            else:
                named[key.kid] = key
        return cls(named, tuple(unnamed))

    @classmethod
    def from_jwks(cls, document: Mapping[str, Any]) -> KeySet:
        """The usable signature keys of a JWKS document; unusable or symmetric keys are skipped."""
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise ValueError("a JWKS document needs a `keys` list")
        keys: list[VerificationKey] = []
        for entry in entries:
            key = _from_jwk(entry)
            if key is not None:
                keys.append(key)
        return cls.of(keys)

    def __add__(self, other: KeySet) -> KeySet:
        return KeySet({**self.by_kid, **other.by_kid}, self.unnamed + other.unnamed)

    def candidates(self, kid: str | None, algorithm: object) -> list[VerificationKey]:
        """Keys a token with this header may have been signed with (empty: none trusted)."""
        if kid is not None:
            key = self.by_kid.get(kid)
            return [key] if key is not None else []
        named = [k for k in self.by_kid.values() if k.algorithm == algorithm and k.kid]
        return [k for k in self.unnamed if k.algorithm == algorithm] + (
            named if len(named) == 1 else []
        )


def _from_jwk(entry: object) -> VerificationKey | None:
    if not isinstance(entry, dict) or entry.get("kty") == "oct":
        return None
    if entry.get("use", "sig") != "sig":
        return None
    try:
        jwk = jwt.PyJWK(entry)
    except jwt.PyJWTError as exc:
        log.warning("skipping a JWKS key (kid=%r): %s", entry.get("kid"), type(exc).__name__)
        return None
    if jwk.algorithm_name not in ASYMMETRIC_ALGORITHMS:
        return None
    return VerificationKey(jwk.key_id, jwk.algorithm_name, jwk.key)


def key_from_pem(path: Path) -> VerificationKey:
    """A public key from a PEM file, named by the file's stem, its algorithm from its type."""
    key = load_pem_public_key(path.read_bytes())
    if isinstance(key, rsa.RSAPublicKey):
        algorithm = "RS256"
    elif isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_ALGORITHMS:
        algorithm = _EC_ALGORITHMS[key.curve.name]
    elif isinstance(key, ed25519.Ed25519PublicKey):
        algorithm = "EdDSA"
    else:
        raise ValueError(f"{path.name}: not an RSA, EC (P-256/384/521) or Ed25519 public key")
    return VerificationKey(path.stem, algorithm, key)


def hmac_key(secret: str) -> VerificationKey:
    """The development HS256 key: only ever built in development mode."""
    return VerificationKey(None, "HS256", secret.encode())
