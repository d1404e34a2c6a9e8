"""Which bearer tokens the gateway trusts: the `tokens` group of the settings.

Production trusts asymmetric keys only (RS256/ES256/EdDSA), from the identity provider's JWKS URL
or from PEM files, with a fixed issuer list and audience and a bounded token age. Keys are bound
to issuers: citizen issuers (`issuers`) verify only with `jwks_url`/`pem_files`, service issuers
(`service_issuers`) only with `service_jwks_url`/`service_pem_files` (the same URL in both when
one identity provider signs both kinds), so a partner's service key never signs a citizen token.
The shared-secret HS256 key exists only in development mode with no asymmetric source configured:
it is how the embedded default signs its own tokens (`python server.py dev-token`). Nothing here
is ever printed with its value: the development secret is a `SecretStr`.

    PANJEREH_TOKENS__JWKS_URL=https://sso.example/.well-known/jwks.json
    PANJEREH_TOKENS__ISSUERS='["https://sso.example"]'
    PANJEREH_TOKENS__SERVICE_ISSUERS='["https://sso.example/clients"]'
    PANJEREH_TOKENS__SERVICE_JWKS_URL=https://sso.example/clients/jwks.json
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["DEV_ISSUER", "DEV_JWT_SECRET", "DEV_SERVICE_ISSUER", "MIN_SECRET_BYTES", "TokenTrust"]

DEV_JWT_SECRET = "panjereh-development-only-secret-do-not-deploy"
DEV_ISSUER = "panjereh-dev"
DEV_SERVICE_ISSUER = "panjereh-dev-services"
MIN_SECRET_BYTES = 32


class TokenTrust(BaseModel):
    """Keys, issuers and audience of the tokens the gateway accepts, and how old they may be."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jwks_url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="The identity provider's JWKS; fetched at start, cached, refreshed on an "
        "unknown `kid` at most once per `jwks_min_refresh_s`. Signs citizen tokens only.",
    )
    pem_files: tuple[Path, ...] = Field(
        (),
        description="PEM public keys (RSA, EC P-256/384/521, Ed25519) that sign citizen tokens; "
        "`kid` = file stem.",
    )
    service_jwks_url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="The JWKS of the keys that sign service-client tokens (and nothing else).",
    )
    service_pem_files: tuple[Path, ...] = Field(
        (), description="PEM public keys that sign service-client tokens (and nothing else)."
    )
    issuers: tuple[str, ...] = Field(
        (DEV_ISSUER,), min_length=1, description="Issuers of citizen tokens (`iss`)."
    )
    service_issuers: tuple[str, ...] = Field(
        (DEV_SERVICE_ISSUER,),
        description="Issuers of service-client tokens: a token from one of these is a service "
        "client named by `client_id`/`azp` (else `sub`), with scopes from `scope`.",
    )
    audience: str = Field("panjereh", min_length=1)
    max_age_s: int = Field(
        24 * 3600, gt=0, le=7 * 24 * 3600, description="Bound on `exp - iat` and on `now - iat`."
    )
    leeway_s: float = Field(30.0, ge=0, le=300, description="Clock skew allowed on exp/iat/nbf.")
    jwks_cache_s: float = Field(300.0, ge=1, description="Refetch the JWKS after this long.")
    jwks_min_refresh_s: float = Field(
        30.0, ge=1, description="At most one refetch per this interval for unknown `kid`s."
    )
    jwks_timeout_s: float = Field(5.0, gt=0, le=30)
    dev_secret: SecretStr | None = Field(
        None, description="HS256 secret for development tokens (at least 32 bytes)."
    )

    @field_validator("dev_secret")
    @classmethod
    def _secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"the development token secret must be at least {MIN_SECRET_BYTES} bytes"
            )
        return value

    @model_validator(mode="after")
    def _issuers_are_distinct(self) -> Self:
        if set(self.issuers) & set(self.service_issuers):
            raise ValueError("an issuer cannot be both a citizen and a service issuer")
        if self.service_keys and not self.service_issuers:
            raise ValueError(
                "PANJEREH_TOKENS__SERVICE_JWKS_URL/SERVICE_PEM_FILES need "
                "PANJEREH_TOKENS__SERVICE_ISSUERS: the issuers those keys sign for"
            )
        return self

    @property
    def citizen_keys(self) -> bool:
        """Whether citizen tokens have an asymmetric key source."""
        return bool(self.jwks_url or self.pem_files)

    @property
    def service_keys(self) -> bool:
        """Whether service-client tokens have an asymmetric key source."""
        return bool(self.service_jwks_url or self.service_pem_files)

    @property
    def asymmetric(self) -> bool:
        """Whether any key comes from a JWKS or PEM files: a production-like configuration."""
        return self.citizen_keys or self.service_keys

    def dev_secret_for(self, mode: str) -> str | None:
        """The HS256 secret, only in development mode with no asymmetric key source."""
        if mode != "development" or self.asymmetric:
            return None
        return (self.dev_secret.get_secret_value() if self.dev_secret else None) or DEV_JWT_SECRET

    def check_production(self) -> None:
        """Raise `ValueError` naming what a production configuration lacks; never a value."""
        if self.dev_secret is not None:
            raise ValueError(
                "production mode does not accept HS256: unset PANJEREH_TOKENS__DEV_SECRET"
            )
        if not self.citizen_keys:
            raise ValueError(
                "production mode needs PANJEREH_TOKENS__JWKS_URL or PANJEREH_TOKENS__PEM_FILES"
            )
        if DEV_ISSUER in self.issuers:
            raise ValueError("production mode needs PANJEREH_TOKENS__ISSUERS (not the dev issuer)")
        if DEV_SERVICE_ISSUER in self.service_issuers:
            raise ValueError(
                "production mode needs PANJEREH_TOKENS__SERVICE_ISSUERS (not the dev issuer; "
                "[] for none)"
            )
        if self.service_issuers and not self.service_keys:
            raise ValueError(
                "PANJEREH_TOKENS__SERVICE_ISSUERS needs PANJEREH_TOKENS__SERVICE_JWKS_URL or "
                "PANJEREH_TOKENS__SERVICE_PEM_FILES (service tokens are not verified with the "
                "citizen keys), or set it to []"
            )
