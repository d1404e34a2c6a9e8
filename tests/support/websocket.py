"""A minimal graphql-transport-ws client over aiohttp, as a browser or mobile app would speak it."""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp

__all__ = ["GraphQLSocket", "Subscription", "graphql_socket"]

PROTOCOL = "graphql-transport-ws"


@dataclass
class GraphQLSocket:
    """One open connection; `acked` says whether `connection_init` was accepted."""

    ws: aiohttp.ClientWebSocketResponse
    acked: bool
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _inbox: defaultdict[str, deque[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    """Messages of subscriptions received while another operation was being read."""

    async def run(
        self, query: str, variables: dict[str, Any] | None = None, *, wait_s: float = 15
    ) -> dict[str, Any]:
        """Run one operation: its `next` payload, or `{"errors": …}` from an `error` message,
        or `{"closed": code}` if the server closed the connection instead."""
        op_id = str(next(self._ids))
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        await self.ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})
        result: dict[str, Any] = {}
        while True:
            message = await self.ws.receive(timeout=wait_s)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return {**result, "closed": self.ws.close_code}
            data = message.json()
            if data.get("id") != op_id:
                continue
            if data["type"] == "next":
                result = data["payload"]
            elif data["type"] == "error":
                return {"errors": data["payload"]}
            elif data["type"] == "complete":
                return result

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> Subscription:
        """Start an operation that may answer many times (a subscription)."""
        op_id = str(next(self._ids))
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        await self.ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})
        return Subscription(self, op_id)

    async def wait_closed(self, wait_s: float) -> int | None:
        """Wait for the server to close the connection; its close code."""
        while True:
            message = await self.ws.receive(timeout=wait_s)
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
            ):
                return self.ws.close_code


@dataclass
class Subscription:
    """One subscription on a socket: its results one at a time, then `stop()`."""

    socket: GraphQLSocket
    id: str

    async def next(self, *, wait_s: float = 15) -> dict[str, Any]:
        """The next `next` payload of this subscription; `{"errors": …}` for an `error`
        message, `{"complete": True}` when the server completed it, `{"closed": code}` when it
        closed the connection. Messages of other subscriptions are kept for them."""
        ws, inbox = self.socket.ws, self.socket._inbox
        while True:
            if inbox[self.id]:
                data = inbox[self.id].popleft()
            else:
                message = await ws.receive(timeout=wait_s)
                if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    return {"closed": ws.close_code}
                data = message.json()
                if data.get("id") != self.id:
                    if data.get("id") is not None:
                        inbox[data["id"]].append(data)
                    continue
            if data["type"] == "next":
                return dict(data["payload"])
            if data["type"] == "error":
                return {"errors": data["payload"]}
            if data["type"] == "complete":
                return {"complete": True}

    async def stop(self) -> None:
        """Tell the server this client wants no more (`complete` from the client)."""
        await self.socket.ws.send_json({"id": self.id, "type": "complete"})


@asynccontextmanager
async def graphql_socket(
    client: aiohttp.ClientSession,
    url: str,
    *,
    token: str | None = None,
    header_token: str | None = None,
    protocol: str = PROTOCOL,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[GraphQLSocket]:
    """Connect (with `headers` on the upgrade request) and send `connection_init` with the
    token in its payload (or in the header)."""
    headers = dict(headers or {})
    if header_token:
        headers["Authorization"] = f"Bearer {header_token}"
    async with client.ws_connect(url, protocols=[protocol], headers=headers) as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send_json({"type": "connection_init", "payload": payload})
        message = await ws.receive(timeout=15)
        acked = (
            message.type == aiohttp.WSMsgType.TEXT and message.json()["type"] == "connection_ack"
        )
        yield GraphQLSocket(ws, acked)
