"""Ops overrides of agency circuits, held by every instance of the fleet.

    setCircuit on any instance ──▶ order(agency, OPEN | CLOSED | AUTO, by=<ops client id>)
      with Redis:  HSET <ns>:circuit-overrides <agency> <order>   the last order per agency
                   PUBLISH <ns>:circuit-overrides <order>         for immediacy
                   ──▶ FLEET
      without (embedded default), or Redis refusing the write ──▶ this instance only: INSTANCE
    every instance, one listener task (with Redis):
      read the hash ─▶ subscribe ─▶ read it again (resync) ─▶ apply each message as it comes
                 ─▶ read the hash again every `resync_s` and after every reconnection
    apply = the connector's `breaker.force(state)` and one log line naming the ops client (a
            client id; never a token)

The hash is the truth and messages make it immediate: an instance started later, a restarted
one, or one whose subscription dropped for a while reads the hash and holds what the fleet
holds. It keeps the last order of each agency, AUTO included, so a release missed while
disconnected is applied at the next resync and says who released it. An order is applied
once per instance: a record already applied (its own, echoed back; the same one read again)
is skipped. Messages and resyncs run in the one listener task, in order, so a resync's read
can never undo a message published after it. An INSTANCE order (Redis refused the write)
stays until a newer fleet order for that agency arrives or ops release it on this instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Self

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from cache.redis import RedisCache
from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.breaker import CircuitState
from observability.background import cancel_and_wait

__all__ = ["CircuitOrder", "CircuitOverrides", "CircuitScope"]

log = logging.getLogger("panjereh.ops")

_REDIS_TIMEOUT_S = 1.0  # an ops mutation, not a citizen's request: patience is cheap here
_RESYNC_S = 5.0
_RETRY_MIN_S = 0.5
_RETRY_MAX_S = 10.0
_FIRST_SYNC_S = 2.0  # how long start-up waits to hold the fleet's overrides before serving


class CircuitScope(StrEnum):
    """Where an order holds."""

    FLEET = "FLEET"  # shared through Redis: every instance, and every instance started later
    INSTANCE = "INSTANCE"  # this process only: no Redis, or Redis refused the write


@dataclass(frozen=True, slots=True)
class CircuitOrder:
    """One ops order for an agency's circuit: hold it OPEN or CLOSED, or AUTO (`state` None)
    to hand it back to the breaker. `by` is the ops client's id, `at` unix seconds."""

    agency: str
    state: CircuitState | None
    by: str
    at: float
    scope: CircuitScope

    def encode(self) -> bytes:
        state = "AUTO" if self.state is None else self.state.name  # CLOSED is 0: not `or`
        return json.dumps(
            {"agency": self.agency, "state": state, "by": self.by, "at": self.at},
            separators=(",", ":"),
        ).encode()

    @classmethod
    def decode(cls, raw: bytes | str) -> Self:
        """The order in `raw`; ValueError (or KeyError, TypeError) if it is not one."""
        data = json.loads(raw)
        state = data["state"]
        return cls(
            agency=str(data["agency"]),
            state=None if state == "AUTO" else CircuitState[state],
            by=str(data["by"]),
            at=float(data["at"]),
            scope=CircuitScope.FLEET,
        )


class CircuitOverrides:
    """The overrides this instance holds, shared with the fleet through `client` when given.

    `order()` is what the ops mutation calls; `held()` what the ops query shows; `start()` and
    `stop()` run the listener (with Redis). Without a client every order is this instance's.
    """

    def __init__(
        self,
        connectors: Iterable[AgencyConnector],
        *,
        client: Redis | RedisCluster | None = None,
        namespace: str = "panjereh",
        resync_s: float = _RESYNC_S,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._connectors = {c.agency_id: c for c in connectors}
        self._client = client
        self._owned: RedisCache | None = None  # a client made here, closed by `stop()`
        self._key = f"{namespace}:circuit-overrides"
        self._resync_s = resync_s
        self._wall = wall
        self._sleep = sleep
        self._orders: dict[str, CircuitOrder] = {}
        self._applied: dict[str, bytes] = {}  # per agency, the fleet record last applied here
        self._task: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()

    @classmethod
    def for_redis_url(
        cls, connectors: Iterable[AgencyConnector], redis_url: str | None, **kwargs: Any
    ) -> Self:
        """Overrides shared through the Redis at `redis_url`; this instance's alone if None."""
        if not redis_url:
            return cls(connectors, **kwargs)
        redis = RedisCache.from_url(redis_url, socket_timeout=_REDIS_TIMEOUT_S)
        overrides = cls(connectors, client=redis.client, **kwargs)
        overrides._owned = redis
        return overrides

    @property
    def scope(self) -> CircuitScope:
        """Where orders are meant to hold: the fleet with Redis, else this instance."""
        return CircuitScope.INSTANCE if self._client is None else CircuitScope.FLEET

    def held(self, agency: str) -> CircuitOrder | None:
        """The order holding the agency's circuit on this instance; None while AUTO."""
        order = self._orders.get(agency)
        return order if order is not None and order.state is not None else None

    # -- ordering ---------------------------------------------------------------------------

    async def order(self, agency: str, state: CircuitState | None, *, by: str) -> CircuitOrder:
        """Hold `agency`'s circuit at `state` (None: AUTO) on every instance if Redis takes the
        order, else on this one; the order says which. KeyError for an unknown agency."""
        if agency not in self._connectors:
            raise KeyError(agency)
        order = CircuitOrder(agency, state, by, self._wall(), self.scope)
        if self._client is not None:
            record = order.encode()
            try:
                async with asyncio.timeout(_REDIS_TIMEOUT_S):
                    await self._client.hset(self._key, agency, record)  # type: ignore[misc]
            except Exception as exc:  # Redis down or slow: the order still holds here
                log.error(
                    "circuit order for %s not shared (%s): it holds on this instance only",
                    agency,
                    type(exc).__name__,
                    extra={"agency": agency},
                )
                order = replace(order, scope=CircuitScope.INSTANCE)
            else:
                self._applied[agency] = record
                await self._publish(agency, record)
        self._apply(order, "ordered here", given_here=True)
        return order

    async def _publish(self, agency: str, record: bytes) -> None:
        try:
            async with asyncio.timeout(_REDIS_TIMEOUT_S):
                await self._client.publish(self._key, record)  # type: ignore[union-attr]
        except Exception as exc:  # the hash has it: the others apply it at their next resync
            log.warning(
                "circuit order for %s stored but not announced (%s); other instances apply it "
                "within %.0f s",
                agency,
                type(exc).__name__,
                self._resync_s,
                extra={"agency": agency},
            )

    def _apply(self, order: CircuitOrder, how: str, *, given_here: bool = False) -> None:
        """Force this instance's breaker to the order, with one log line, when that changes
        what it holds (an order given here is applied and logged whatever it changes)."""
        connector = self._connectors[order.agency]
        breaker = connector.breaker
        self._orders[order.agency] = order
        current = breaker.state if breaker.forced else None
        if current == order.state and not given_here:
            return
        breaker.force(order.state)
        held = "AUTO" if order.state is None else order.state.name
        log.warning(
            "circuit of %s forced to %s by %s (%s, %s)",
            order.agency,
            held,
            order.by,
            order.scope.value.lower(),
            how,
            extra={
                "agency": order.agency,
                "circuit": held,
                "forced_by": order.by,
                "applied_to": order.scope.value,
            },
        )

    def _take(self, raw: bytes, how: str) -> None:
        """Apply one fleet record (a message, or a field of the hash) unless it already was."""
        try:
            order = CircuitOrder.decode(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable circuit order in Redis; ignored")
            return
        if order.agency not in self._connectors:
            log.debug("circuit order for unknown agency %s ignored", order.agency)
            return
        if self._applied.get(order.agency) == raw:
            return
        self._applied[order.agency] = raw
        self._apply(order, how)

    # -- listening --------------------------------------------------------------------------

    async def start(self) -> None:
        """With Redis: start listening, and wait (a little) to hold what the fleet holds before
        this instance serves."""
        if self._client is None or self._task is not None:
            return
        self._task = asyncio.create_task(self._listen(), name="circuit-overrides")
        try:
            async with asyncio.timeout(_FIRST_SYNC_S):
                await self._synced.wait()
        except TimeoutError:
            log.error("circuit overrides not read from Redis at start-up; still trying")

    async def stop(self) -> None:
        """Stop listening, and close the Redis client if it was made here."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._owned is not None:
            await self._owned.close()

    async def _listen(self) -> None:
        assert self._client is not None
        delay = _RETRY_MIN_S
        while True:
            try:
                # On a Cluster the subscription goes to the node serving the channel's slot, as
                # the client last knew it: a command first (the same slot: the hash has the
                # channel's name) makes it learn the topology, or learn it again after a
                # failover, where the subscription alone would knock on the dead master forever.
                await self._resync("read before subscribing")
                pubsub = self._client.pubsub()
                try:
                    await pubsub.subscribe(self._key)
                    await self._resync("read at subscription")
                    delay = _RETRY_MIN_S
                    await self._follow(pubsub)
                finally:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis gone: keep what is held, try again
                log.warning(
                    "circuit overrides: Redis unreachable (%s); trying again in %.1f s",
                    type(exc).__name__,
                    delay,
                )
                await self._sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_S)

    async def _follow(self, pubsub: Any) -> None:
        """Apply messages as they come; read the whole hash again every `resync_s`."""
        loop = asyncio.get_running_loop()
        next_resync = loop.time() + self._resync_s
        while True:
            wait = max(0.0, next_resync - loop.time())
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)
            if message is not None and message.get("type") == "message":
                self._take(message["data"], "announced")
            if loop.time() >= next_resync:
                await self._resync("resync")
                next_resync = loop.time() + self._resync_s

    async def _resync(self, how: str) -> None:
        assert self._client is not None
        async with asyncio.timeout(_REDIS_TIMEOUT_S):
            records: Mapping[bytes, bytes] = await self._client.hgetall(self._key)  # type: ignore[misc]
        for raw in records.values():
            self._take(raw, how)
        self._synced.set()
