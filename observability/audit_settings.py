"""Audit settings (`PANJEREH_AUDIT__<NAME>`): where records go and the key that hides citizens.

The embedded default writes `./var/audit.jsonl` with a fixed development key, so that a restart
continues the same chain and `accessLog` still finds a citizen's records. Production refuses to
start without its own key and an explicit file path.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.audit import chain_key

__all__ = ["DEV_AUDIT_KEY", "DEV_AUDIT_PATH", "KEY_ENV", "AuditEnvironment", "AuditSettings"]

DEV_AUDIT_KEY = "panjereh-development-audit-key-do-not-deploy"
DEV_AUDIT_PATH = Path("var/audit.jsonl")
MIN_KEY_BYTES = 32
KEY_ENV = "PANJEREH_AUDIT__KEY_SECRET"


class AuditSettings(BaseModel):
    """How the audit log is written, chained and indexed."""

    model_config = {"extra": "forbid"}

    path: Path | None = Field(
        None,
        description="Append-only JSON-lines file. Unset: ./var/audit.jsonl (development only).",
    )
    key_secret: SecretStr | None = Field(
        None,
        description="HMAC key for the keyed hash of citizens in records (≥ 32 bytes in "
        "production). Instances and restarts must share it for accessLog to find old records.",
    )
    instance_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Chain id of this instance; unset: the host name. Keep it stable across "
        "restarts so the chain continues.",
    )
    batch_size: int = Field(64, ge=1, le=10_000, description="Records per file write + fsync.")
    batch_interval_s: float = Field(
        0.2, gt=0, le=10, description="Longest a record waits in memory before it is written."
    )
    max_pending: int = Field(
        100_000,
        ge=1,
        description="Records kept in memory per sink while it fails; past this the oldest are "
        "dropped and counted (the chain shows the gap).",
    )
    redis_stream: bool = Field(
        True, description="Also XADD every record to a Redis stream when REDIS_URL is set."
    )
    stream_maxlen: int = Field(
        1_000_000, ge=1000, description="Approximate length kept in each instance's stream."
    )
    access_log_max: int = Field(
        1000, ge=10, description="Accesses kept per citizen for `me { accessLog }`."
    )

    @property
    def file_path(self) -> Path:
        return self.path if self.path is not None else DEV_AUDIT_PATH

    @property
    def key(self) -> bytes:
        secret = self.key_secret.get_secret_value() if self.key_secret else DEV_AUDIT_KEY
        return secret.encode()

    @property
    def chain_key(self) -> bytes:
        """The key records are chained under (derived from `key`, used for nothing else)."""
        return chain_key(self.key)

    @property
    def chain_id(self) -> str:
        return self.instance_id or socket.gethostname()[:64] or "panjereh"

    def require_production_config(self) -> None:
        """Raise `ValueError` naming what production mode is missing (never showing a secret)."""
        if self.path is None:
            raise ValueError("production mode needs PANJEREH_AUDIT__PATH")
        secret = self.key_secret.get_secret_value() if self.key_secret else DEV_AUDIT_KEY
        if secret == DEV_AUDIT_KEY:
            raise ValueError("production mode needs PANJEREH_AUDIT__KEY_SECRET")
        if len(secret.encode()) < MIN_KEY_BYTES:
            raise ValueError(f"PANJEREH_AUDIT__KEY_SECRET must be at least {MIN_KEY_BYTES} bytes")


class AuditEnvironment(BaseSettings):
    """What `audit verify` reads of the gateway's environment: the mode and the audit settings
    (the same variables as `Settings`; the rest of the gateway's configuration is not needed)."""

    model_config = SettingsConfigDict(
        env_prefix="PANJEREH_", env_nested_delimiter="__", extra="ignore"
    )

    mode: Literal["development", "production"] = "development"
    audit: AuditSettings = Field(default_factory=AuditSettings)

    @property
    def has_key(self) -> bool:
        return bool(self.audit.key_secret and self.audit.key_secret.get_secret_value())
