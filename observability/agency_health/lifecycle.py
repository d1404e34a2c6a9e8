"""Building the app's health book from settings, and closing it (a last flush) after."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from observability.agency_health.book import AgencyHealthBook
from observability.agency_health.memory_store import MemoryHealthStore
from observability.agency_health.store import HealthStore
from observability.metrics import Metrics

if TYPE_CHECKING:
    from settings import Settings

__all__ = ["open_health_book"]


@asynccontextmanager
async def open_health_book(
    settings: Settings, agencies: Iterable[str], *, metrics: Metrics
) -> AsyncIterator[AgencyHealthBook]:
    """The book for `agencies`, started (the fleet's records read back); closed on exit."""
    config = settings.health
    store: HealthStore = MemoryHealthStore(max_incidents=config.max_incidents)
    book = AgencyHealthBook(agencies, store, settings=config, metrics=metrics)
    await book.start()
    try:
        yield book
    finally:
        await book.close()
