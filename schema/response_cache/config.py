"""Settings of the response cache (`PANJEREH_RESPONSE_CACHE`, see `schema.response_cache`).

`PANJEREH_RESPONSE_CACHE=off` (or `on`) is the switch; the group's other settings are
`PANJEREH_RESPONSE_CACHE__MAX_AGE_S` and `__MAX_RESPONSE_BYTES`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ResponseCacheConfig", "ResponseCacheSwitch"]

_SWITCH = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}


class ResponseCacheConfig(BaseModel):
    """How long and how large answers are kept; each is kept no longer than its freshest part
    allows, whatever `max_age_s` says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    max_age_s: float = Field(
        30.0, gt=0, le=3600, description="Upper bound on how long one answer is kept."
    )
    max_response_bytes: int = Field(
        256 * 1024, ge=1024, description="Larger answers are not kept (they are rare and costly)."
    )

    @model_validator(mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        """`off`/`on` (as `PANJEREH_RESPONSE_CACHE=off` gives it) stand for `enabled`."""
        if isinstance(value, str | bool):
            key = str(value).strip().lower()
            if key not in _SWITCH:
                raise ValueError("PANJEREH_RESPONSE_CACHE is on, off, or a JSON object")
            return {"enabled": _SWITCH[key]}
        return value


ResponseCacheSwitch = ResponseCacheConfig | Literal["on", "off"]
"""The settings field's type: the union lets `off`/`on` through pydantic-settings (which would
otherwise read the value as JSON); the model's own validator turns them into a config, so the
field always holds a `ResponseCacheConfig` (`union_mode="left_to_right"`)."""
