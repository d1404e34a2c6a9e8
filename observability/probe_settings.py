"""Settings of the agency health probes (`PANJEREH_PROBES__<NAME>`), see observability.probes."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ProbeSettings"]


class ProbeSettings(BaseModel):
    """How often each agency is probed, and how long a probe may take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Probe every agency on `interval_s`.")
    interval_s: float = Field(
        15.0, gt=0, le=3600, description="Seconds between two probes of an agency (fleet-wide)."
    )
    timeout_s: float = Field(
        2.0, gt=0, le=60, description="Bound on one probe; no answer within it is a timeout."
    )

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> Self:
        if self.timeout_s > self.interval_s:
            raise ValueError("probes.timeout_s must not exceed probes.interval_s")
        return self
