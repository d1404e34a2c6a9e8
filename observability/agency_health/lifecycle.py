"""Building the app's health book from settings, and closing it (a last flush) after."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from observability.agency_health.book import AgencyHealthBook
from observability.agency_health.fallback_store import FallbackHealthStore
from observability.agency_health.memory_store import MemoryHealthStore
from observability.agency_health.redis_store import RedisHealthStore
from observability.agency_health.store import HealthStore
from observability.metrics import Metrics

if TYPE_CHECKING:
    from settings import Settings

__all__ = ["open_health_book"]


@asynccontextmanager
async def open_health_book(
    settings: Settings, agencies: Iterable[str], *, metrics: Metrics
) -> AsyncIterator[AgencyHealthBook]:
    """The book for `agencies`, started (the fleet's records read back); closed on exit.

    In memory on the embedded default; with `REDIS_URL`, shared by the fleet in Redis under
    `<cache namespace>:health`, with this process's memory answering while Redis is down."""
    config = settings.health
    memory = MemoryHealthStore(max_incidents=config.max_incidents)
    store: HealthStore = memory
    if settings.redis_url:
        redis = RedisHealthStore.from_url(
            settings.redis_url,
            namespace=settings.cache_namespace,
            max_incidents=config.max_incidents,
            socket_timeout=config.redis_timeout_s,
        )
        store = FallbackHealthStore(
            redis,
            memory,
            timeout_s=config.redis_timeout_s,
            retry_after_s=config.redis_retry_after_s,
        )
    book = AgencyHealthBook(agencies, store, settings=config, metrics=metrics)
    await book.start()
    try:
        yield book
    finally:
        await book.close()
