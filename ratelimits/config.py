"""Rate-limit settings: one nested model, `Settings.rate_limits` (env `PANJEREH_RATE_LIMITS__…`).

Limits are written in the `limits` library's string syntax, several separated by `;`
(`"60/minute;20/second"`: at most 60 in any minute and 20 in any second). They are parsed when
the settings are read, so a typo stops the gateway at start-up instead of disabling a limit.
"""

from __future__ import annotations

from limits import RateLimitItem, parse_many
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, field_validator

__all__ = ["CallerLimits", "CitizenLimits", "ClientLimits", "RateLimits", "parse_limits"]


def parse_limits(text: str) -> list[RateLimitItem]:
    """The items of a limit string, the shortest window first (see `RateLimiter.hit`)."""
    try:
        items = parse_many(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a rate limit such as '60/minute;20/second'") from exc
    if not items:
        raise ValueError(f"{text!r} names no rate limit")
    return sorted(items, key=lambda item: item.get_expiry())


class CallerLimits(BaseModel):
    """What one authenticated caller (a citizen, or one service client) may ask for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: str = Field(description="GraphQL requests (each HTTP request to /graphql).")
    lookups: str = Field(
        description="Distinct agency lookups (one per agency answer a request needs)."
    )
    shahkar: str = Field(description="Shahkar lookups (`mobileCheck`), which cost money.")

    @field_validator("requests", "lookups", "shahkar")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_limits(value)
        return value


class CitizenLimits(CallerLimits):
    """One citizen's budgets (keyed by the token's subject). Each field has its default, so
    `PANJEREH_RATE_LIMITS__CITIZEN__SHAHKAR` alone changes only Shahkar's."""

    requests: str = "60/minute;20/second"
    lookups: str = "300/minute"
    shahkar: str = "10/minute"


class ClientLimits(CallerLimits):
    """One service client's budgets (keyed by its client id): a caseworker's desk or a
    back-office service reads for many citizens."""

    requests: str = "1200/minute;100/second"
    lookups: str = "6000/minute"
    shahkar: str = "300/minute"


class RateLimits(BaseModel):
    """Budgets per kind of caller, shared through Redis when `REDIS_URL` is set.

    The defaults allow a person's normal use of the app (a home screen of a few queries, some
    refreshes: the full `me` query is one request and about 18 lookups) and stop a loop.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="False turns every limit off (benchmarks only).")
    citizen: CitizenLimits = CitizenLimits()
    client: ClientLimits = ClientLimits()
    anonymous: str = Field(
        "120/minute;20/second", description="Requests without a token, per client IP."
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Proxies whose X-Forwarded-For is believed (addresses or networks); empty: "
        "the peer address is the client.",
    )
    redis_retry_after_s: float = Field(
        2.0, ge=0, description="After a Redis failure, count in memory this long before retrying."
    )
    redis_timeout_s: float = Field(
        0.25, gt=0, le=5, description="Bound on one Redis call; past it, counting falls back."
    )

    @field_validator("anonymous")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_limits(value)
        return value
