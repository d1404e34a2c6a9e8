"""Refresh what recently active citizens read from an agency shortly before it goes into
maintenance, so their data is served (marked stale) through the window instead of an error.

    every check_s:  for each agency, the calendar's next window ─ starts within lead_s? ─┐
    (once per window) recent operations of that agency (connectors.pipeline.recent) ◀────┘
        each, at most `concurrency` at once:
          cached copy fresh past the window's end ─▶ left as it is ("fresh")
          else run again, bypassing the fresh cache (OperationRunner.refresh), the new copy
          kept at least until the window ends ─▶ "refreshed" / "failed"
          the window began meanwhile ─▶ not called ("late")

Counted per agency and result in `panjereh_maintenance_refreshes_total`, and logged as counts:
never a subject. The agency sees each round's own request id, `maintenance-<agency>-<random>`.
Each instance refreshes the citizens it served; two instances refreshing the same one share one
agency call through the cache's lease. `clock` is the calendar's (unix s).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.recent import RecentOperation
from domain.errors import AgencyError, AgencyNotFound
from observability.agency_health.model import MaintenanceWindow
from observability.background import cancel_and_wait
from observability.maintenance.calendar import MaintenanceCalendar
from observability.metrics import Metrics
from observability.request_ids import accepted_request_id, new_request_id

__all__ = ["PreWindowRefresh", "stale_shortfalls"]

log = logging.getLogger(__name__)

_RESULTS = ("refreshed", "fresh", "failed", "late")


class PreWindowRefresh:
    """Refreshes each agency's recently used operations `lead_s` before its windows start."""

    def __init__(
        self,
        calendar: MaintenanceCalendar,
        connectors: Iterable[AgencyConnector],
        *,
        metrics: Metrics,
        lead_s: float = 600.0,
        concurrency: int = 2,
        check_s: float = 30.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.calendar = calendar
        self.connectors = [c for c in connectors if c.operations.recent is not None]
        self.metrics = metrics
        self.lead_s = lead_s
        self.concurrency = concurrency
        self.check_s = check_s
        self._sleep = sleep
        self._done: set[tuple[str, float]] = set()  # (agency, window start) refreshed for
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None and self.lead_s > 0 and self.connectors:
            self._task = asyncio.create_task(self._every_check(), name="pre-window-refresh")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _every_check(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # one bad round must not end the refreshes to come
                log.exception("pre-window refresh round failed")
            await self._sleep(self.check_s)

    async def tick(self) -> dict[str, Counter[str]]:
        """Refresh every agency whose next window starts within the lead and was not refreshed
        for yet; what each came to, by agency."""
        now = self.calendar.now()
        due: list[tuple[AgencyConnector, MaintenanceWindow]] = []
        for connector in self.connectors:
            window = self.calendar.next(connector.agency_id, now)
            if window is None or window.starts_at - now > self.lead_s:
                continue
            mark = (connector.agency_id, window.starts_at)
            if mark not in self._done:
                self._done.add(mark)
                due.append((connector, window))
        self._done = {mark for mark in self._done if mark[1] > now - 86_400}
        counts = await asyncio.gather(*(self.refresh(c, w) for c, w in due))
        return {c.agency_id: n for (c, _), n in zip(due, counts, strict=True)}

    async def refresh(self, connector: AgencyConnector, window: MaintenanceWindow) -> Counter[str]:
        """Run `connector`'s recent operations again ahead of `window`, `concurrency` at once
        (that many workers going through them in turn)."""
        agency = connector.agency_id
        recent = connector.operations.recent
        operations = recent.due() if recent is not None else []
        counts: Counter[str] = Counter()
        request_id = _request_id(agency)
        waiting = iter(operations)  # most recently used first, shared by the workers

        async def worker() -> None:
            for operation in waiting:
                counts[await self._refresh_one(connector, operation, window, request_id)] += 1

        log.info(
            "refreshing %d recent operations of %s before its maintenance window",
            len(operations),
            agency,
            extra={"agency": agency, "request_id": request_id},
        )
        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(operations)))))
        for result in _RESULTS:
            if counts[result]:
                self.metrics.maintenance_refreshes.labels(agency, result).inc(counts[result])
        log.info(
            "pre-window refresh of %s: %d refreshed, %d already fresh, %d failed, %d too late",
            agency,
            counts["refreshed"],
            counts["fresh"],
            counts["failed"],
            counts["late"],
        )
        return counts

    async def _refresh_one(
        self,
        connector: AgencyConnector,
        operation: RecentOperation,
        window: MaintenanceWindow,
        request_id: str,
    ) -> str:
        if self.calendar.now() >= window.starts_at:
            return "late"
        runner = connector.operations
        kind, subject = operation.kind, operation.subject
        entry = await runner.cache.peek(connector.agency_id, kind, subject)
        if entry is not None and not entry.not_found and entry.fresh_until >= window.ends_at:
            return "fresh"
        try:
            await runner.refresh(
                kind,
                subject,
                operation.load,
                operation.adapter,
                keep_until=window.ends_at,
                request_id=request_id,
            )
        except AgencyNotFound:
            return "refreshed"  # the agency answered: it holds no such record
        except AgencyError:
            return "failed"
        except Exception:
            log.exception("pre-window refresh of a %s operation failed", connector.agency_id)
            return "failed"
        return "refreshed"


def _request_id(agency: str) -> str:
    """The id one round of refreshes sends, `maintenance-<agency>-<random>`: the agency's logs
    tell it from citizens' calls."""
    while True:
        candidate = f"maintenance-{agency}-{new_request_id()[:12]}"
        if accepted_request_id(candidate) is not None:
            return candidate


def stale_shortfalls(
    calendar: MaintenanceCalendar, connectors: Iterable[AgencyConnector], lead_s: float
) -> list[str]:
    """Where a copy refreshed before a nightly window would not normally be kept to its end.
    The pre-window refresh keeps the copies it makes that long; a copy it could not refresh
    keeps its own stale window, which these fall short of."""
    found = []
    for connector in connectors:
        policy = connector.policy
        for nightly in calendar.nightly.get(connector.agency_id, ()):
            needed = lead_s + nightly.minutes * 60
            for kind in (None, *policy.kind_ttls):
                stale = policy.windows(kind)[1]
                if stale < needed:
                    found.append(
                        f"{connector.agency_id}/{kind or '*'}: stale window {stale:g} s < "
                        f"{needed:g} s (lead + nightly {nightly})"
                    )
    return found
