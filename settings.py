"""Gateway settings, read once at start-up (pydantic-settings, `PANJEREH_` prefix) and passed down.

With no configuration at all the gateway runs the embedded default: sandbox agencies on loopback,
the in-memory cache, development tokens. Production mode refuses to start without what it needs.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEV_JWT_SECRET", "Settings"]

DEV_JWT_SECRET = "panjereh-development-only-secret-do-not-deploy"


class Settings(BaseSettings):
    """Everything the gateway reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="PANJEREH_", extra="forbid")

    mode: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    agency_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Agency id → base URL (JSON). Empty: start the sandbox agencies in-process.",
    )
    sandbox_latency_ms: tuple[int, int] = (20, 120)

    redis_url: str | None = Field(
        None, validation_alias=AliasChoices("PANJEREH_REDIS_URL", "REDIS_URL")
    )
    cache_max_entries: int = Field(100_000, ge=1)
    cache_key_secret: SecretStr | None = Field(
        None, description="HMAC key for cache keys; instances sharing a cache must share it."
    )

    request_deadline_s: float = Field(8.0, gt=0, le=60)

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_issuer: str = "panjereh-dev"
    jwt_audience: str = "panjereh"

    @property
    def embedded_sandbox(self) -> bool:
        return not self.agency_urls

    @model_validator(mode="after")
    def _production_needs_real_config(self) -> Self:
        if self.mode == "production":
            if self.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
                raise ValueError("production mode needs PANJEREH_JWT_SECRET")
            if not self.agency_urls:
                raise ValueError("production mode needs PANJEREH_AGENCY_URLS")
            if self.cache_key_secret is None:
                raise ValueError("production mode needs PANJEREH_CACHE_KEY_SECRET")
        return self
