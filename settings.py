"""Gateway settings, read once at start-up (pydantic-settings, `PANJEREH_` prefix) and passed down.

With no configuration at all the gateway runs the embedded default: sandbox agencies on loopback,
the in-memory cache, development tokens. Production mode refuses to start without what it needs.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from auth.trust import TokenTrust
from observability.agency_health.settings import HealthSettings
from observability.audit_settings import AuditSettings
from observability.maintenance.config import MaintenanceSettings
from observability.probe_settings import ProbeSettings
from observability.status_page.settings import StatusPageSettings
from ratelimits.config import RateLimits
from schema.persisted.config import PersistedQueries
from schema.query_limits import QueryLimits
from schema.response_cache.config import ResponseCacheConfig, ResponseCacheSwitch
from workers.cores import usable_cores

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Everything the gateway reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="PANJEREH_", env_nested_delimiter="__", extra="forbid"
    )

    mode: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int | None = Field(
        None,
        ge=1,
        le=256,
        description="Gateway processes sharing the port (SO_REUSEPORT), supervised by the "
        "started process (see workers/). Unset: 1 in development, one per usable core in "
        "production (the affinity mask, capped by a cgroup CPU quota).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text", "auto"] = Field(
        "auto", description="json lines, or text; auto: text on a terminal in development"
    )

    agency_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Agency id → base URL (JSON). Empty: start the sandbox agencies in-process.",
    )
    sandbox_latency_ms: tuple[int, int] = (20, 120)
    agency_policies: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='Per-agency policy overrides (JSON), e.g. {"water": {"timeout": 1.5, '
        '"fresh_ttl": 60, "breaker": {"open_s": 30}}}.',
    )

    redis_url: str | None = Field(
        None, validation_alias=AliasChoices("PANJEREH_REDIS_URL", "REDIS_URL")
    )
    cache_max_entries: int = Field(100_000, ge=1)
    cache_max_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024 * 1024,
        description="Byte budget of the in-process cache (agency data and responses); the least "
        "recently used entries are evicted past it. Decoded agency answers are charged what they "
        "weigh in memory, so this is about what the cache adds to the process's RSS.",
    )
    cache_timeout_s: float = Field(
        0.25, gt=0, le=5, description="Bound on one cache call; past it the call is a miss."
    )
    cache_namespace: str = Field(
        "panjereh", pattern=r"^[A-Za-z0-9_.:{}-]{1,80}$", description="Prefix of every cache key."
    )
    cache_key_secret: SecretStr | None = Field(
        None, description="HMAC key for cache keys; instances sharing a cache must share it."
    )
    cache_encryption_key: SecretStr | None = Field(
        None, description="Base64 AES key (16, 24 or 32 bytes) to encrypt cached payloads."
    )

    request_deadline_s: float = Field(8.0, gt=0, le=60)
    shutdown_grace_s: float = Field(
        20.0,
        ge=0,
        le=3600,
        description="After SIGTERM: how long requests in flight, and those a load balancer still "
        "sends, are served (/readyz answers 503 from the first moment); past it the listeners "
        "close and what is left gets at most one request deadline more (observability.drain).",
    )
    shutdown_quiet_s: float = Field(
        2.0,
        ge=0,
        le=60,
        description="After SIGTERM the listeners close once no request has arrived for this long "
        "and none is in flight (the load balancer has seen /readyz fail), or at the grace's end.",
    )
    limits: QueryLimits = Field(
        default_factory=QueryLimits, description="Query limits (see schema.query_limits)."
    )
    rate_limits: RateLimits = Field(
        default_factory=RateLimits, description="Rate limits (see ratelimits.config)."
    )

    tokens: TokenTrust = Field(default_factory=TokenTrust)

    persisted_queries: PersistedQueries = Field(default_factory=PersistedQueries)

    response_cache: ResponseCacheSwitch = Field(
        default_factory=ResponseCacheConfig,
        union_mode="left_to_right",
        description="Cached answers to repeated queries (see schema.response_cache); `off` "
        "switches it off.",
    )

    audit: AuditSettings = Field(default_factory=AuditSettings)

    status_page: StatusPageSettings = Field(
        default_factory=StatusPageSettings,
        description="The public status page at /status (observability.status_page).",
    )

    probes: ProbeSettings = Field(
        default_factory=ProbeSettings, description="Agency health probes (observability.probes)."
    )
    health: HealthSettings = Field(
        default_factory=HealthSettings,
        description="Agency state, availability and incidents (observability.agency_health).",
    )

    maintenance: MaintenanceSettings = Field(
        default_factory=MaintenanceSettings,
        description="Planned maintenance: nightly windows per agency, one-off windows, the "
        "pre-window refresh (observability.maintenance).",
    )

    @property
    def worker_count(self) -> int:
        """How many gateway processes `serve` runs: `workers`, else the mode's default."""
        if self.workers is not None:
            return self.workers
        return 1 if self.mode == "development" else usable_cores()

    @property
    def embedded_sandbox(self) -> bool:
        return not self.agency_urls

    @property
    def encryption_key(self) -> bytes | None:
        if self.cache_encryption_key is None:
            return None
        return base64.b64decode(self.cache_encryption_key.get_secret_value(), validate=True)

    @model_validator(mode="after")
    def _redis_url_scheme(self) -> Self:
        schemes = (
            "redis://", "rediss://", "unix://", "redis+sentinel://", "redis+cluster://",
            "rediss+cluster://",
        )  # fmt: skip
        if self.redis_url and not self.redis_url.startswith(schemes):
            raise ValueError(f"REDIS_URL must start with one of {', '.join(schemes)}")
        return self

    @model_validator(mode="after")
    def _encryption_key_is_aes(self) -> Self:
        try:
            key = self.encryption_key
        except (binascii.Error, ValueError) as exc:
            raise ValueError("PANJEREH_CACHE_ENCRYPTION_KEY must be base64") from exc
        if key is not None and len(key) not in (16, 24, 32):
            raise ValueError("PANJEREH_CACHE_ENCRYPTION_KEY must decode to 16, 24 or 32 bytes")
        return self

    @model_validator(mode="after")
    def _production_needs_real_config(self) -> Self:
        if self.mode == "production":
            self.tokens.check_production()
            if not self.agency_urls:
                raise ValueError("production mode needs PANJEREH_AGENCY_URLS")
            if self.cache_key_secret is None:
                raise ValueError("production mode needs PANJEREH_CACHE_KEY_SECRET")
            if not self.probes.enabled:
                raise ValueError(
                    "production mode needs PANJEREH_PROBES__ENABLED=true: without probes no "
                    "agency is ever judged and every one shows UP, whatever it does"
                )
            self.audit.require_production_config()
        return self
