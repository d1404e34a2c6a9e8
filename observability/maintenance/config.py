"""Settings of planned maintenance (`PANJEREH_MAINTENANCE__<NAME>`), see observability.maintenance.

    PANJEREH_MAINTENANCE__NIGHTLY='{"water": "00:00-02:00", "tax": ["01:00-01:30", "23:50-00:10"]}'
    PANJEREH_MAINTENANCE__REFRESH_LEAD_S=600

Nightly windows are Tehran wall-clock time, as agencies announce them; an agency id the gateway
does not know is a configuration error at start-up.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.pipeline.recent import RecentLimits
from observability.maintenance.nightly import NightlyWindow

__all__ = ["MaintenanceSettings"]

_DAY_S = 86_400


class MaintenanceSettings(BaseModel):
    """Nightly windows per agency, bounds on the one-off windows ops set, the pre-window refresh."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nightly: dict[str, tuple[NightlyWindow, ...]] = Field(
        default_factory=dict,
        description='Agency id → its nightly window(s) in Tehran time, e.g. {"water": '
        '"00:00-02:00"}; a window may cross midnight ("23:30-01:00").',
    )
    sync_s: float = Field(
        5.0, gt=0, le=300, description="How often an instance re-reads ops' one-off windows "
        "from Redis (those it sets itself apply at once).",
    )  # fmt: skip
    max_window_s: float = Field(
        6 * 3600, gt=0, le=7 * _DAY_S, description="Longest one-off window ops may set."
    )
    max_ahead_s: float = Field(
        90 * _DAY_S, gt=0, description="How far ahead a one-off window may start."
    )
    max_windows: int = Field(
        50, ge=1, le=1000, description="One-off windows an agency may have at once."
    )
    refresh_lead_s: float = Field(
        600.0, ge=0, le=_DAY_S, description="How long before a window the cache of recently "
        "active citizens is refreshed (0: no pre-window refresh).",
    )  # fmt: skip
    refresh_concurrency: int = Field(
        2, ge=1, le=32, description="Operations re-run at once per agency by that refresh."
    )
    refresh_check_s: float = Field(
        30.0, gt=0, le=3600, description="How often upcoming windows are looked for."
    )
    recent_max: int = Field(
        2000, ge=1, le=1_000_000, description="Recently used operations kept per agency (in "
        "memory only) for the pre-window refresh.",
    )  # fmt: skip
    recent_age_s: float = Field(
        12 * 3600, gt=0, le=7 * _DAY_S, description="How long a used operation is kept for it."
    )

    @field_validator("nightly", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """`"00:00-02:00"` stands for `["00:00-02:00"]`."""
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _known_agencies(self) -> Self:
        from connectors.registry import AGENCY_IDS  # the gateway's agencies, known once built

        unknown = sorted(set(self.nightly) - set(AGENCY_IDS))
        if unknown:
            raise ValueError(
                f"maintenance.nightly names unknown agencies: {', '.join(unknown)} "
                f"(known: {', '.join(AGENCY_IDS)})"
            )
        return self

    @property
    def recent_limits(self) -> RecentLimits:
        return RecentLimits(self.recent_max, self.recent_age_s)
