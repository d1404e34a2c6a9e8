"""One process's graceful shutdown: what is in flight, whether it is draining, and its two log
lines.

SIGTERM (`begin`) turns `/readyz` to 503 at once, and nothing else changes at first: requests
in flight go on, and those a load balancer still sends before it has seen the 503 are served
too (refusing them would fail them). `quiet` returns when the balancer has evidently stopped
sending, no request having arrived for `quiet_s` (counted from SIGTERM at the earliest: the
balancer can only notice after it) with none in flight, or when the grace
(`grace_s` from SIGTERM) is over. Then aiohttp's own graceful shutdown takes over (server.py
`serve`): listeners closed, idle keep-alive connections closed, `on_shutdown` (which closes
every WebSocket here with 1001, going away), what is still in flight waited for up to the
runner's `shutdown_timeout` and then cancelled, and the cleanup contexts, which stop the
background work and flush the buffers.

Probes and scrapes (`/healthz`, `/readyz`, `/metrics`) are neither traffic nor work in flight:
a balancer checking `/readyz` every second must not keep the drain from ending. A WebSocket
counts as traffic when it arrives, but not as a request in flight (it lasts until closed).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable

from aiohttp import WSCloseCode, web

__all__ = ["DRAIN_PATHS_IGNORED", "Drain"]

log = logging.getLogger("panjereh.drain")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DRAIN_PATHS_IGNORED = frozenset({"/healthz", "/readyz", "/metrics"})
"""Paths whose requests neither keep the drain going nor count among those served in it."""


class Drain:
    """Counts requests in flight; after `begin`, the drain's progress and its end."""

    def __init__(
        self,
        *,
        grace_s: float,
        quiet_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.grace_s = grace_s
        self.quiet_s = quiet_s
        self._clock = clock
        self.in_flight = 0
        self.began_at: float | None = None
        self.in_flight_at_start = 0
        self.served = 0
        """Requests answered since `begin` (those in flight then included)."""
        self.cut_off = 0
        """Requests cancelled since `begin`: still running when the shutdown gave up on them."""
        self._last_arrival = clock()
        self._changed = asyncio.Event()
        self._begun = asyncio.Event()
        self._hurry = False
        self._websockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()

    @property
    def draining(self) -> bool:
        return self.began_at is not None

    # -- wiring into the app ---------------------------------------------------------------------

    def install(self, app: web.Application) -> None:
        """Track every request (outermost middleware), every WebSocket, and close those at
        aiohttp's shutdown."""
        app.middlewares.insert(0, self._track)
        app.on_response_prepare.append(self._on_prepare)
        app.on_shutdown.append(self._close_websockets)

    @web.middleware
    async def _track(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in DRAIN_PATHS_IGNORED:
            return await handler(request)
        self._last_arrival = self._clock()
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await handler(request)  # a connection, not a request in flight
        self.in_flight += 1
        try:
            response = await handler(request)
        except asyncio.CancelledError:
            if self.draining:
                self.cut_off += 1
            raise
        except BaseException:
            if self.draining:
                self.served += 1  # answered by the middlewares around this one (a 500)
            raise
        else:
            if self.draining:
                self.served += 1
            return response
        finally:
            self.in_flight -= 1
            self._changed.set()

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        if isinstance(response, web.WebSocketResponse):
            self._websockets.add(response)

    async def _close_websockets(self, app: web.Application) -> None:
        """Every open WebSocket closed with 1001 (going away): the client reconnects, through
        the balancer, to an instance that stays."""
        sockets = [ws for ws in self._websockets if not ws.closed]
        if sockets:
            log.info("closing %d WebSocket(s) with 1001 (going away)", len(sockets))
            going = WSCloseCode.GOING_AWAY
            closes = (ws.close(code=going, message=b"server shutdown") for ws in sockets)
            await asyncio.gather(*closes, return_exceptions=True)

    # -- the drain -------------------------------------------------------------------------------

    def begin(self) -> None:
        """SIGTERM: not ready from now on; said once in the log. A second call (a second signal)
        ends the wait for quiet at once."""
        if self.draining:
            self._hurry = True
            self._changed.set()
            log.warning("second stop signal: closing the listeners now")
            return
        self.began_at = self._clock()
        self.in_flight_at_start = self.in_flight
        self._begun.set()
        log.info(
            "drain started: %d request(s) in flight; /readyz answers 503; serving on until "
            "quiet for %.1f s, at most %.1f s",
            self.in_flight,
            self.quiet_s,
            self.grace_s,
            extra={"in_flight": self.in_flight, "grace_s": self.grace_s},
        )

    async def begun(self) -> None:
        """Wait for `begin`."""
        await self._begun.wait()

    async def quiet(self) -> None:
        """Return once nothing is in flight and nothing has arrived for `quiet_s`, or when the
        grace is over (or at a second signal)."""
        assert self.began_at is not None, "begin() first"
        ends_at = self.began_at + self.grace_s
        while not self._hurry:
            now = self._clock()
            if now >= ends_at:
                return
            idle_for = now - max(self._last_arrival, self.began_at)  # noticed after SIGTERM
            if self.in_flight == 0 and idle_for >= self.quiet_s:
                return
            # Wake at a request's end, else when the quiet period or the grace would be over.
            wait = ends_at - now
            if self.in_flight == 0:
                wait = min(wait, self.quiet_s - idle_for)
            self._changed.clear()
            try:
                async with asyncio.timeout(wait):
                    await self._changed.wait()
            except TimeoutError:
                pass

    def remaining_s(self) -> float:
        """What is left of the grace (all of it before `begin`)."""
        if self.began_at is None:
            return self.grace_s
        return max(0.0, self.began_at + self.grace_s - self._clock())

    def report(self) -> None:
        """The drain's one closing line: how long, how many served, how many cut off."""
        took = self._clock() - self.began_at if self.began_at is not None else 0.0
        log.info(
            "drain ended after %.1f s: %d request(s) served during the drain (%d in flight at "
            "its start), %d cut off; background work stopped and flushed",
            took,
            self.served,
            self.in_flight_at_start,
            self.cut_off,
            extra={"served": self.served, "cut_off": self.cut_off, "duration_s": round(took, 3)},
        )
