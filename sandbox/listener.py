"""One aiohttp app on one TCP port that can stop listening and listen again on the same port.

"Down" has to be a real connection refused, so the listening socket is closed (and open
connections dropped) rather than answering with an error; "up" binds the same port again.
"""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web

SHUTDOWN_TIMEOUT_S = 0.25  # stop() must not wait for hanging handlers


def _bind(host: str, port: int) -> socket.socket:
    """A bound (not yet listening) TCP socket; port 0 picks a free one."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class Listener:
    """Serves `app` on host:port; `port` is fixed after the first bind and reused afterwards."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.host = host
        self.port = port
        # handler_cancellation: a client that gives up on a hanging request frees its handler
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S, handler_cancellation=True
        )
        self._site: web.SockSite | None = None
        self._switching = asyncio.Lock()  # concurrent down/up must not race on the port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def listening(self) -> bool:
        return self._site is not None

    async def start(self) -> None:
        await self._runner.setup()
        await self.open()

    async def open(self) -> None:
        """Listen (again) on the same port; no-op if already listening."""
        async with self._switching:
            if self._site is not None:
                return
            sock = _bind(self.host, self.port)
            self.port = sock.getsockname()[1]
            site = web.SockSite(self._runner, sock, backlog=1024)
            await site.start()
            self._site = site

    async def close(self) -> None:
        """Stop listening and drop open connections: new connects are refused."""
        async with self._switching:
            if self._site is None:
                return
            site, self._site = self._site, None
            await site.stop()
            server = self._runner.server
            if server is not None:
                for connection in server.connections:
                    connection.force_close()
            await asyncio.sleep(0.01)  # let clients see their pooled connections close

    async def stop(self) -> None:
        """Close everything, cancelling handlers still running after a short grace period."""
        self._site = None
        await self._runner.cleanup()
