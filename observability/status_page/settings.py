"""Settings of the public status page: `PANJEREH_STATUS_PAGE__<NAME>`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["StatusPageSettings"]


class StatusPageSettings(BaseModel):
    """Whether `/status` is served, and how often it is rendered and refreshed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Serve the public status page at /status.")
    render_every_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description="A rendered page is kept this long (per language) and served to everyone.",
    )
    refresh_s: int = Field(
        30, ge=5, le=3600, description="Readers' browsers reload the page this often."
    )
    incidents: int = Field(
        3, ge=0, le=20, description="Recent incidents shown per agency (last 7 days)."
    )
