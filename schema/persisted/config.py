"""Settings of persisted queries: `Settings.persisted_queries`, env
`PANJEREH_PERSISTED_QUERIES__<NAME>` (e.g. `PANJEREH_PERSISTED_QUERIES__MODE=manifest`).

The manifest is read and checked while the settings are, so a bad file stops the gateway at
start-up with a configuration error instead of refusing every request later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from schema.persisted.manifest import Manifest

__all__ = ["PersistedQueries"]


class PersistedQueries(BaseModel):
    """How the gateway treats `extensions.persistedQuery`.

    - `off`: every request sends its full query; a hash gets PERSISTED_QUERY_NOT_SUPPORTED (the
      Apollo link then stops sending hashes).
    - `apq` (default): Automatic Persisted Queries; any valid document may be registered by its
      SHA-256 and then sent by hash alone, also over GET.
    - `manifest`: only the operations of `manifest_path` run; nothing is registered.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["off", "apq", "manifest"] = "apq"
    manifest_path: Path | None = Field(
        None, description="Persisted-operations manifest (JSON) for manifest mode."
    )
    max_query_bytes: int = Field(
        16_384, ge=256, le=1_048_576, description="Largest document APQ will register."
    )
    apq_ttl_s: float = Field(
        7 * 86_400, gt=0, description="How long a registered document is kept (shared cache)."
    )
    local_entries: int = Field(
        2_000, ge=1, description="Registered documents each instance keeps in memory (LRU)."
    )
    get_max_age_s: int = Field(
        30, ge=0, le=3_600, description="Cache-Control max-age of a successful GET answer."
    )

    _manifest: Manifest | None = PrivateAttr(None)

    @property
    def manifest(self) -> Manifest | None:
        """The loaded manifest in manifest mode, else None."""
        return self._manifest

    @model_validator(mode="after")
    def _load_manifest(self) -> Self:
        if self.mode == "manifest":
            if self.manifest_path is None:
                raise ValueError(
                    "manifest mode needs PANJEREH_PERSISTED_QUERIES__MANIFEST_PATH "
                    "(a persisted-operations manifest file)"
                )
            self._manifest = Manifest.load(self.manifest_path)
        return self
