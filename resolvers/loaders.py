"""The agency lookups of one request: each distinct lookup made once, by one task, and shared.

    field ─▶ load(op, *args) ──▶ first time: a task ─▶ budget.spend(op) ─▶ op(*args, deadline=…)
    field ─▶ load(op, *args) ──▶ again: the same task (its answer or its error)
    list  ─▶ start(op, *args) for every part at once, then await each (resolvers.aggregate)

One task per distinct lookup is all the concurrency a request needs: the fields that ask for the
same answer wait on that task, and everything below a field is read from the loaded object. Each
waiter waits through a shield, so a waiter that is cancelled never cancels the lookup the other
fields share. The rate-limit spend runs inside the lookup's task; lookups started in the same
step are charged in one count (`LookupBudget`). State lives here, per request: the tasks, what
each lookup ended in (`outcomes`, read by the audit), the sources of the answers and whether any
lookup was refused (read by the response cache). An agency's "no record" (`AgencyNotFound`) is
an answer with a source of its own, not a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from connectors.pipeline.deadline import Deadline
from domain.errors import AgencyNotFound, QueryTooComplex
from domain.sourced import Fetched, Source
from ratelimits.limiter import LookupBudget

__all__ = ["MAX_AGENCY_LOOKUPS", "Lookup", "RequestLoaders"]

T = TypeVar("T")

MAX_AGENCY_LOOKUPS = 64
"""Distinct agency lookups one request may make: the full `me` query needs 17, so this leaves
room for a caseworker's few citizens while a query of hundreds of aliased fields cannot turn
one request into hundreds of agency calls."""

Lookup = tuple[Callable[..., Any], tuple[Hashable, ...]]
"""One distinct lookup: the agency operation and its arguments (the citizen, and any more)."""


class RequestLoaders:
    """The agency lookups of one request (see the module docstring).

    Two fields that need the same agency answer for the same citizen share one call; each
    lookup fails alone (its exception is its result). Past `max_lookups` distinct lookups a
    lookup is QUERY_TOO_COMPLEX. Each distinct lookup is spent once from the caller's `budget`
    (rate limits); a lookup over it fails with RATE_LIMITED, as do the fields that share it, and
    the rest of the request goes on. Every agency call is made with the operation's `deadline`
    (None: the agency's own budget), which also carries the request's id to the agency.
    """

    def __init__(
        self,
        max_lookups: int = MAX_AGENCY_LOOKUPS,
        budget: LookupBudget | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.deadline = deadline
        self._max = max_lookups
        self._budget = budget
        self._tasks: dict[Lookup, asyncio.Task[Any]] = {}
        self._refused = False
        self.outcomes: dict[Lookup, Exception | None] = {}
        """Every lookup the agencies were asked, with the exception it ended in (None:
        answered); the audit reads which agencies were asked about whom from it."""
        self.sources: list[Source] = []
        """The source of every answer ("no record" included); the response cache keeps an
        answer no longer than the freshest of them allows."""

    def for_deadline(self, deadline: Deadline) -> RequestLoaders:
        """Fresh loaders with these limits and budget, calling agencies with `deadline`."""
        return RequestLoaders(self._max, self._budget, deadline)

    def start(
        self, op: Callable[..., Awaitable[Fetched[T]]], *args: Hashable
    ) -> asyncio.Future[Fetched[T]]:
        """The lookup's task, started now unless it already runs; over the cap, a future
        already failed with QUERY_TOO_COMPLEX (so that only what needed it fails).

        Await it through `asyncio.shield` (as `load` does): it is shared."""
        key = (op, args)
        task = self._tasks.get(key)
        if task is not None:
            return task
        if len(self._tasks) >= self._max:
            self._refused = True
            refused: asyncio.Future[Fetched[T]] = asyncio.get_running_loop().create_future()
            refused.set_exception(
                QueryTooComplex(
                    f"this query asks agencies for more than {self._max} distinct things",
                    limit="agencyLookups",
                    maximum=self._max,
                )
            )
            return refused
        task = self._tasks[key] = asyncio.get_running_loop().create_task(self._lookup(key))
        task.add_done_callback(_observed)
        return task

    async def load(self, op: Callable[..., Awaitable[Fetched[T]]], *args: Hashable) -> Fetched[T]:
        """The answer of this lookup, made once per request however many fields ask."""
        return await asyncio.shield(self.start(op, *args))

    async def _lookup(self, key: Lookup) -> Any:
        op, args = key
        if self._budget is not None:
            try:
                await self._budget.spend(op)
            except Exception:  # RATE_LIMITED: the agency was not asked, but the answer is partial
                self._refused = True
                raise
        try:
            result = await op(*args, deadline=self.deadline)
        except AgencyNotFound as exc:
            self.outcomes[key] = exc
            if exc.source is not None:
                self.sources.append(exc.source)
            raise
        except Exception as exc:
            self.outcomes[key] = exc
            raise
        self.outcomes[key] = None
        self.sources.append(result.source)
        return result

    def answered_sources(self) -> list[Source] | None:
        """The sources of every answer ("no record" included), or None when a lookup failed or
        was refused (by the rate limits or the cap): an answer built then is partial. A "no
        record" whose source is not known is counted as failed: how long it holds is unknown."""
        if self._refused:
            return None
        for error in self.outcomes.values():
            if error is not None and not (
                isinstance(error, AgencyNotFound) and error.source is not None
            ):
                return None
        return self.sources


def _observed(task: asyncio.Task[Any]) -> None:
    """Marks a lookup's error as seen: when every field that asked was cancelled (the request
    went away), nobody awaits it, and asyncio would log it as never retrieved."""
    if not task.cancelled():
        task.exception()
