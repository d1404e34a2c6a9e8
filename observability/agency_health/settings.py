"""Settings of the agency health book (`PANJEREH_HEALTH__<NAME>`), see `agency_health.book`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["HealthSettings"]


class HealthSettings(BaseModel):
    """When an agency is DEGRADED, how samples are written, what is kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    degraded_ratio: float = Field(
        0.2,
        gt=0,
        le=1,
        description="DEGRADED when failed / all samples over the last 5 minutes reaches this.",
    )
    degraded_min_samples: int = Field(
        4, ge=1, le=10_000, description="Fewer samples than this over 5 minutes judge no ratio."
    )
    flush_interval_s: float = Field(
        1.0,
        gt=0,
        le=5,
        description="Seconds between two writes of the buffered samples to the shared store.",
    )
    max_incidents: int = Field(
        200, ge=1, le=10_000, description="Closed incidents kept per agency (the newest)."
    )
    read_max_age_s: float = Field(
        2.0,
        ge=0,
        le=60,
        description="A snapshot served from what this instance read at most this long ago "
        "(ticks refresh it anyway); 0 reads the shared store every time.",
    )
    redis_timeout_s: float = Field(
        0.5, gt=0, le=10, description="Bound on one call to Redis; past it the memory serves."
    )
    redis_retry_after_s: float = Field(
        5.0, ge=0, le=300, description="After Redis failed, seconds before it is tried again."
    )
