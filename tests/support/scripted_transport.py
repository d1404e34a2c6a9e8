"""A transport that answers from a script: the pipeline's unit tests run through it, no sockets.

Each step of the script is a `TransportResponse`, an exception of the error tree (raised as a
transport failure would be), or a function of the request returning either (it may also move a
fake clock, or wait on an event to hold a call in flight). Steps are taken in order; a script
that runs out fails the test loudly. Every request sent is recorded.
"""

from __future__ import annotations

import inspect
import json
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from connectors.pipeline.transport import TransportRequest, TransportResponse

__all__ = ["Clock", "ScriptedTransport", "Step", "json_response"]

Step = (
    TransportResponse
    | BaseException
    | Callable[[TransportRequest], TransportResponse | Awaitable[TransportResponse]]
)


class ScriptedTransport:
    """Plays `steps` in order, one per request."""

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        self.steps: deque[Step] = deque(steps)
        self.sent: list[TransportRequest] = []

    def add(self, *steps: Step) -> None:
        self.steps.extend(steps)

    async def send(self, request: TransportRequest) -> TransportResponse:
        self.sent.append(request)
        if not self.steps:
            raise AssertionError(f"unscripted request: {request.method} {request.url}")
        step = self.steps.popleft()
        if callable(step) and not isinstance(step, BaseException):
            step = step(request)
            if inspect.isawaitable(step):
                step = await step
        if isinstance(step, BaseException):
            raise step
        return step


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> TransportResponse:
    """A canned JSON answer."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    return TransportResponse(status, dict(headers or {}), body)


class Clock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
