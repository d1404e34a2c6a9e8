"""A health book on an in-memory store with a clock the test moves, and ticks as the prober
makes them: the unit tests of the state machine, history and changes drive it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from observability.agency_health.book import AgencyHealthBook
from observability.agency_health.memory_store import MemoryHealthStore
from observability.agency_health.model import (
    AgencyState,
    Failure,
    MaintenanceWindow,
    Sample,
)
from observability.agency_health.settings import HealthSettings
from observability.metrics import Metrics
from tests.support.scripted_transport import Clock

__all__ = ["T0", "Calendar", "Call", "HealthRig"]

T0 = 1_767_225_600.0 + 12 * 3600
"""Noon UTC on 2026-01-01: hours and days of the tests start at known boundaries."""
INTERVAL_S = 15.0


@dataclass(frozen=True)
class Call:
    """A real call's sample, made at the tick's time."""

    ok: bool = True
    failure: Failure | None = None
    seconds: float = 0.1
    maintenance: bool = False
    back_at: float | None = None  # a maintenance's announced end (503 + Retry-After)


OK_CALL = Call()


@dataclass
class Calendar:
    """A `MaintenanceSource` holding the windows a test gives it."""

    windows: list[MaintenanceWindow] = field(default_factory=list)

    async def window_at(self, agency: str, at: float) -> MaintenanceWindow | None:
        for window in self.windows:
            if window.agency == agency and window.starts_at <= at < window.ends_at:
                return window
        return None

    async def upcoming(self, agency: str, after: float, within: float) -> list[MaintenanceWindow]:
        found = [
            w for w in self.windows if w.agency == agency and after <= w.starts_at < after + within
        ]
        return sorted(found, key=lambda w: w.starts_at)


class HealthRig:
    """One book (or several sharing `store`, as instances share Redis) and its clock."""

    def __init__(
        self,
        agencies: Iterable[str] = ("water", "gas"),
        *,
        clock: Clock | None = None,
        store: MemoryHealthStore | None = None,
        settings: HealthSettings | None = None,
        calendar: Calendar | None = None,
    ) -> None:
        self.clock = clock or Clock(T0)
        self.store = store if store is not None else MemoryHealthStore(clock=self.clock)
        self.metrics = Metrics()
        self.book = AgencyHealthBook(
            agencies,
            self.store,
            settings=settings,
            metrics=self.metrics,
            maintenance=calendar,
            clock=self.clock,
        )

    def calls(self, agency: str, calls: Iterable[Call]) -> None:
        for call in calls:
            self.book.record(
                Sample(
                    agency,
                    self.clock(),
                    call.ok,
                    call.seconds,
                    failure=call.failure,
                    maintenance=call.maintenance,
                    back_at=call.back_at,
                )
            )

    async def tick(
        self,
        agency: str = "water",
        *,
        probe: Failure | None = None,
        maintenance: bool = False,
        retry_after: float | None = None,
        calls: Iterable[Call] = (),
        seconds: float = 0.05,
        interval: float = INTERVAL_S,
    ) -> AgencyState:
        """One probe interval: time passes, calls are made, then the probe and its verdict.
        `probe` is the probe's failure (None: it answered ok)."""
        self.clock.advance(interval)
        self.calls(agency, calls)
        sample = Sample(
            agency,
            self.clock(),
            ok=probe is None and not maintenance,
            seconds=seconds,
            failure=probe,
            maintenance=maintenance,
            probe=True,
        )
        return await self.book.evaluate(agency, sample, self.clock(), retry_after=retry_after)

    async def ticks(self, n: int, agency: str = "water", **tick: object) -> list[AgencyState]:
        return [await self.tick(agency, **tick) for _ in range(n)]  # type: ignore[arg-type]

    def gauge(self, name: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, labels)
