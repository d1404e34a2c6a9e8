"""What every resolver of one GraphQL request can reach."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from strawberry.dataloader import DataLoader

from auth.connection import ConnectionAuth
from auth.principal import Principal
from connectors.pipeline.deadline import Deadline
from connectors.registry import Connectors
from domain.errors import QueryTooComplex
from domain.sourced import Fetched, Source
from observability.audit_trail import AccessTrail
from observability.metrics import Metrics
from ratelimits.limiter import LookupBudget, RateLimiter

__all__ = ["GatewayContext", "RequestLoaders"]

T = TypeVar("T")


MAX_AGENCY_LOOKUPS = 64
"""Distinct agency lookups one request may make: the full `me` query needs 17, so this leaves
room for a caseworker's few citizens while a query of hundreds of aliased fields cannot turn
one request into hundreds of agency calls."""


class RequestLoaders:
    """One DataLoader per agency operation, living as long as one request.

    Two fields that need the same agency answer for the same citizen share one call; each key
    fails alone (its exception is its result), as strawberry's DataLoader allows. Past
    `max_lookups` distinct lookups the request is QUERY_TOO_COMPLEX. Each distinct lookup is
    spent once from the caller's `budget` (rate limits); a lookup over it fails with
    RATE_LIMITED, as do the fields that share it, and the rest of the request goes on. Every
    agency call is made with the operation's `deadline` (None: the agency's own budget).
    """

    def __init__(
        self,
        max_lookups: int = MAX_AGENCY_LOOKUPS,
        budget: LookupBudget | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.deadline = deadline
        self._loaders: dict[Callable[..., Any], DataLoader[Any, Any]] = {}
        # Each distinct lookup → its budget check (None: no budget), shared by the fields that
        # need the same lookup.
        self._seen: dict[tuple[Callable[..., Any], tuple[Hashable, ...]], asyncio.Task[None] | None]
        self._seen = {}
        self._max = max_lookups
        self._budget = budget
        self.outcomes: dict[tuple[Callable[..., Any], tuple[Hashable, ...]], Exception | None] = {}
        """Every lookup made, with the exception it ended in (None: answered); the audit reads
        which agencies were asked about whom from it."""
        self.sources: list[Source] = []
        """The source of every answer; the response cache keeps an answer no longer than the
        freshest of them allows."""

    def for_deadline(self, deadline: Deadline) -> RequestLoaders:
        """Fresh loaders with these limits and budget, calling agencies with `deadline`."""
        return RequestLoaders(self._max, self._budget, deadline)

    async def load(self, op: Callable[..., Awaitable[Fetched[T]]], *args: Hashable) -> Fetched[T]:
        if (op, args) not in self._seen:
            if len(self._seen) >= self._max:
                raise QueryTooComplex(
                    f"this query asks agencies for more than {self._max} distinct things",
                    limit="agencyLookups",
                    maximum=self._max,
                )
            budget = self._budget
            self._seen[(op, args)] = (
                None if budget is None else asyncio.ensure_future(budget.spend(op))
            )
        admitted = self._seen[(op, args)]
        if admitted is not None:
            await asyncio.shield(admitted)
        loader = self._loaders.get(op)
        if loader is None:

            async def load_many(keys: list[tuple[Hashable, ...]]) -> list[Any]:
                calls = (op(*key, deadline=self.deadline) for key in keys)
                return await asyncio.gather(*calls, return_exceptions=True)

            loader = self._loaders[op] = DataLoader(load_fn=load_many)
        try:
            result = await loader.load(args)
        except Exception as exc:
            self.outcomes[(op, args)] = exc
            raise
        self.outcomes.setdefault((op, args), None)
        self.sources.append(result.source)
        return result

    def answered_sources(self) -> list[Source] | None:
        """The sources of every answer, or None when a lookup failed or found nothing."""
        if any(error is not None for error in self.outcomes.values()):
            return None
        return self.sources


@dataclass
class GatewayContext:
    """Per-operation context: the caller, the connectors, the operation's loaders and audit
    trail.

    Over HTTP one request is one operation. A WebSocket connection has one context of its own
    (`connection` set, `connection_params` from `connection_init`); each of its operations runs
    with a copy holding the principal verified for it, fresh loaders and a fresh audit trail
    (`OperationScope`).
    """

    request: web.Request | None
    principal: Principal | None
    connectors: Connectors
    metrics: Metrics
    loaders: RequestLoaders = field(default_factory=RequestLoaders)
    audit: AccessTrail = field(default_factory=AccessTrail)
    deadline_s: float | None = None
    """Time budget of one operation; the deadline starts when the operation does."""
    deadline: Deadline | None = None
    """The operation's deadline, set when it starts (`OperationScope`); its loaders hold it."""
    connection: ConnectionAuth | None = None
    connection_params: dict[str, Any] | None = None
    rate_limiter: RateLimiter | None = None
    """Counts each WebSocket operation like an HTTP request (HTTP requests are counted by the
    view before any GraphQL work)."""
