"""Per-caller budgets: requests per citizen, per service client and per anonymous address, and
agency lookups per citizen or client (Shahkar apart, because each of its answers is paid for).

Callers are counted under a keyed hash (HMAC-SHA256 with the cache's key secret) of who they
are, never under a national code, client id or address in clear; instances that share a Redis
and the secret share the budgets. Refusals raise `RateLimited` with the seconds to wait and are
counted in `panjereh_rate_limited_total{kind, limit}`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from limits import RateLimitItem

from auth.principal import Principal, PrincipalKind
from connectors.pipeline.base import agency_of
from domain.errors import RateLimited
from observability.metrics import Metrics
from ratelimits.client_ip import client_address
from ratelimits.config import CallerLimits, RateLimits, parse_limits
from ratelimits.windows import Windows

__all__ = ["LookupBudget", "RateLimiter"]

SHAHKAR = "shahkar"


@dataclass(frozen=True)
class _Budgets:
    requests: list[RateLimitItem]
    lookups: list[RateLimitItem]
    shahkar: list[RateLimitItem]

    @classmethod
    def of(cls, limits: CallerLimits) -> _Budgets:
        return cls(
            parse_limits(limits.requests),
            parse_limits(limits.lookups),
            parse_limits(limits.shahkar),
        )


class RateLimiter:
    """Decides whether a caller may go on; one per app."""

    def __init__(
        self, config: RateLimits, windows: Windows, *, key_secret: bytes, metrics: Metrics
    ) -> None:
        self.config = config
        self.windows = windows
        self._secret = key_secret
        self._metrics = metrics
        self._callers = {
            PrincipalKind.CITIZEN: _Budgets.of(config.citizen),
            PrincipalKind.SERVICE: _Budgets.of(config.client),
        }
        self._anonymous = parse_limits(config.anonymous)
        for kind in ("citizen", "client", "anonymous"):
            for limit in ("requests", "lookups", SHAHKAR):
                if kind != "anonymous" or limit == "requests":
                    metrics.rate_limited.labels(kind, limit)

    async def check_request(
        self, principal: Principal | None, peer: str | None, forwarded_for: Iterable[str]
    ) -> None:
        """Count one request of this caller; `RateLimited` when over its request budget."""
        if principal is None:
            address = client_address(peer, forwarded_for, self.config.trusted_proxies)
            await self._spend("anonymous", "requests", self._anonymous, address)
            return
        kind = _kind(principal)
        await self._spend(
            kind, "requests", self._callers[principal.kind].requests, principal.subject
        )

    async def check_http(self, principal: Principal | None, request: web.Request) -> None:
        """`check_request` for an aiohttp request: its peer and forwarded-for chain."""
        forwarded = request.headers.getall("X-Forwarded-For", ())
        await self.check_request(principal, request.remote, forwarded)

    def lookup_budget(self, principal: Principal | None) -> LookupBudget | None:
        """The agency-lookup budget of this caller's request; None for anonymous callers, who
        can reach no agency."""
        if principal is None:
            return None
        return LookupBudget(self, _kind(principal), principal.subject)

    async def _spend(self, kind: str, limit: str, items: list[RateLimitItem], who: str) -> None:
        wait = await self.take(kind, limit, items, who)
        if wait is not None:
            raise self.refusal(kind, limit, wait)

    async def take(
        self, kind: str, limit: str, items: list[RateLimitItem], who: str, cost: int = 1
    ) -> float | None:
        """Spend `cost` from one budget: None when it fit, else the seconds to wait."""
        return await self.windows.hit(items, kind, limit, self._digest(kind, who), cost=cost)

    def refusal(self, kind: str, limit: str, wait: float) -> RateLimited:
        """The error for one refused request or lookup, counted in the metrics."""
        self._metrics.rate_limited.labels(kind, limit).inc()
        return RateLimited(_MESSAGES[limit], retry_after=wait)

    def budgets(self, kind: str) -> _Budgets:
        return self._callers[PrincipalKind.CITIZEN if kind == "citizen" else PrincipalKind.SERVICE]

    def _digest(self, kind: str, who: str) -> str:
        message = f"ratelimit:{kind}:{who}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:40]


class LookupBudget:
    """Spends one unit of a caller's lookup budget per distinct agency lookup of a request, and
    one of the Shahkar budget too when the lookup is Shahkar's.

    The lookups a request starts together (its fields resolve concurrently) are spent in one
    count per budget, not one each: a full `me` query costs two counts, not seventeen. When a
    batch does not fit, its lookups are spent one by one, so as many as fit are answered and
    only the others fail.
    """

    def __init__(self, limiter: RateLimiter, kind: str, who: str) -> None:
        self._limiter = limiter
        self._kind = kind
        self._who = who
        self._budgets = limiter.budgets(kind)
        self._pending: list[tuple[bool, asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def spend(self, op: Callable[..., Any]) -> None:
        """`RateLimited` when this lookup is over budget; only the field that needs it fails."""
        admitted = asyncio.get_running_loop().create_future()
        self._pending.append((agency_of(op) == SHAHKAR, admitted))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.ensure_future(self._flush())
        await admitted

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the lookups started in the same step join the batch
        batch, self._pending = self._pending, []
        try:
            paid = [f for is_shahkar, f in batch if is_shahkar]
            admitted = [f for is_shahkar, f in batch if not is_shahkar]
            admitted += await self._take(SHAHKAR, self._budgets.shahkar, paid)
            for future in await self._take("lookups", self._budgets.lookups, admitted):
                if not future.done():
                    future.set_result(None)
        except Exception as exc:  # a fault of ours: each waiting lookup fails with it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)

    async def _take(
        self, limit: str, items: list[RateLimitItem], futures: list[asyncio.Future[None]]
    ) -> list[asyncio.Future[None]]:
        """The futures that fit in the budget; the others are failed with RATE_LIMITED."""
        if not futures:
            return []
        take = self._limiter.take
        if await take(self._kind, limit, items, self._who, cost=len(futures)) is None:
            return futures
        admitted = []
        for future in futures:
            wait = await take(self._kind, limit, items, self._who)
            if wait is None:
                admitted.append(future)
            elif not future.done():
                future.set_exception(self._limiter.refusal(self._kind, limit, wait))
        return admitted


def _kind(principal: Principal) -> str:
    return "citizen" if principal.kind is PrincipalKind.CITIZEN else "client"


_MESSAGES = {
    "requests": "too many requests; try again later",
    "lookups": "too many agency lookups in a short time; try again later",
    SHAHKAR: "too many mobile checks in a short time; try again later",
}
