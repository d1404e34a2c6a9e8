"""Building the app's rate limiter from settings, and closing its Redis connections after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from observability.metrics import Metrics
from ratelimits.limiter import RateLimiter
from ratelimits.storage import close_storage, redis_storage
from ratelimits.windows import Windows

if TYPE_CHECKING:
    from settings import Settings

__all__ = ["open_rate_limiter"]


@asynccontextmanager
async def open_rate_limiter(
    settings: Settings, *, key_secret: bytes, metrics: Metrics
) -> AsyncIterator[RateLimiter | None]:
    """The limiter (None when limits are turned off): counting in Redis under
    `<cache namespace>:ratelimit` when `REDIS_URL` is set, else in memory."""
    config = settings.rate_limits
    if not config.enabled:
        yield None
        return
    primary = None
    if settings.redis_url:
        primary = redis_storage(
            settings.redis_url,
            key_prefix=f"{settings.cache_namespace}:ratelimit",
            timeout_s=config.redis_timeout_s,
        )
    windows = Windows(
        primary, retry_after_s=config.redis_retry_after_s, timeout_s=config.redis_timeout_s
    )
    try:
        yield RateLimiter(config, windows, key_secret=key_secret, metrics=metrics)
    finally:
        if primary is not None:
            await close_storage(primary)
