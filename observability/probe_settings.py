"""Settings of the agency health probes (`PANJEREH_PROBES__<NAME>`), see observability.probes."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["TIMEOUT_SHARE", "ProbeSettings"]

TIMEOUT_SHARE = 0.5
"""The longest probe timeout, as a share of the interval."""


class ProbeSettings(BaseModel):
    """How often each agency is probed, and how long a probe may take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Probe every agency on `interval_s`.")
    interval_s: float = Field(
        15.0, gt=0, le=3600, description="Seconds between two probes of an agency (fleet-wide)."
    )
    timeout_s: float = Field(
        2.0,
        gt=0,
        le=60,
        description="Bound on one probe; no answer within it is a timeout. At most half the "
        "interval: a probe must end well within the lease of its interval.",
    )

    @model_validator(mode="after")
    def _timeout_within_the_lease(self) -> Self:
        """The probe lease lives 0.8 interval (`observability.probes`): a probe that could
        outlive it would let another instance probe and judge the agency at the same time."""
        if self.timeout_s > TIMEOUT_SHARE * self.interval_s:
            raise ValueError(
                f"probes.timeout_s ({self.timeout_s:g}) must be at most half of "
                f"probes.interval_s ({self.interval_s:g}): a probe must end within its lease"
            )
        return self
