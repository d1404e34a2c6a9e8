"""Which keys may sign for which issuer: citizen issuers and service issuers trust separate keys.

    iss ∈ issuers          ──▶ citizen token: keys of `jwks_url` / `pem_files` only
    iss ∈ service_issuers  ──▶ service token: keys of `service_jwks_url` / `service_pem_files` only
    any other iss          ──▶ refused before any key is looked up (no JWKS fetch either)

Without this binding every trusted key could sign for every trusted issuer, so a partner's
service key would mint citizen tokens with any national code and `acr: 3`. The token's `iss` is
read unverified only to choose the candidate keys; the signature is then checked with each
candidate's own pinned algorithm, and the verified `iss` must belong to the same group. The
development HS256 key (development mode with no asymmetric key at all) signs for both groups: it
is how the embedded default mints its own citizen and service tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auth.jwks import JwksSource
from auth.keys import KeySet, VerificationKey, hmac_key, key_from_pem
from auth.principal import PrincipalKind

if TYPE_CHECKING:
    from pathlib import Path

    from settings import Settings

__all__ = ["IssuerGroup", "KeySource", "TrustedIssuers"]


@dataclass(frozen=True)
class KeySource:
    """The keys one group of issuers signs with: static keys and, if configured, a JWKS."""

    static: KeySet = field(default_factory=KeySet)
    jwks: JwksSource | None = None

    async def candidates(self, kid: str | None, algorithm: object) -> list[VerificationKey]:
        """Keys a token with this header may have been signed with (empty: none trusted)."""
        keys = self.static
        if self.jwks is not None:
            keys = keys + await (self.jwks.keys_with(kid) if kid else self.jwks.keys())
        return keys.candidates(kid, algorithm)


@dataclass(frozen=True)
class IssuerGroup:
    """Issuers whose tokens name one kind of principal, and the only keys trusted for them."""

    kind: PrincipalKind
    issuers: frozenset[str]
    keys: KeySource


class TrustedIssuers:
    """The citizen group and the service group; an issuer belongs to at most one."""

    def __init__(self, citizen: IssuerGroup, service: IssuerGroup) -> None:
        self._groups = (citizen, service)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        citizen_jwks: JwksSource | None = None,
        service_jwks: JwksSource | None = None,
    ) -> TrustedIssuers:
        """Both groups from the `tokens` settings; JWKS sources are built by the caller (they
        need the app's HTTP session)."""
        trust = settings.tokens
        secret = trust.dev_secret_for(settings.mode)
        dev: list[VerificationKey] = [hmac_key(secret)] if secret is not None else []

        def source(pem_files: tuple[Path, ...], jwks: JwksSource | None) -> KeySource:
            return KeySource(KeySet.of([*map(key_from_pem, pem_files), *dev]), jwks)

        return cls(
            IssuerGroup(
                PrincipalKind.CITIZEN,
                frozenset(trust.issuers),
                source(trust.pem_files, citizen_jwks),
            ),
            IssuerGroup(
                PrincipalKind.SERVICE,
                frozenset(trust.service_issuers),
                source(trust.service_pem_files, service_jwks),
            ),
        )

    def group_of(self, issuer: object) -> IssuerGroup | None:
        """The group `issuer` belongs to, or None for an issuer that is not trusted."""
        if not isinstance(issuer, str):
            return None
        return next((g for g in self._groups if issuer in g.issuers), None)
