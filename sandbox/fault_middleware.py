"""The aiohttp middleware that makes an agency misbehave as its fault state says.

It wraps the agency's real handlers, so every fault mode is applied in front of a genuine
answer (slow answers are real answers, malformed ones are real answers broken).
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from sandbox import malformed, pages
from sandbox.faults import AgencyFaults
from sandbox.pages import WireStyle


def _refusal(state: AgencyFaults, style: WireStyle) -> web.Response | None:
    """The answer of an agency that refuses this call without doing the work, if it does."""
    spec = state.spec
    if spec.mode == "maintenance":
        return pages.maintenance(spec.retry_after_s)
    if spec.mode == "flaky" and state.fails():
        return pages.server_error(style, state.flaky_status())
    if spec.mode == "rate_limited" and state.fails():
        return pages.too_many_requests(style, spec.retry_after_s)
    return None


def make_fault_middleware(
    state: AgencyFaults, style: WireStyle, latency_ms: tuple[float, float]
) -> Middleware:
    """Middleware counting every request and applying `state` to it."""
    low, high = latency_ms[0] / 1000, latency_ms[1] / 1000

    @web.middleware
    async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        state.calls += 1
        while True:
            spec = state.spec
            if spec.mode == "down" or state.closing:
                # Only a connection opened before the agency went down (or a request held
                # while the sandbox stops) gets here: drop it without an answer.
                if request.transport is not None:
                    request.transport.close()
                raise asyncio.CancelledError
            window_left = state.window.seconds_left() if state.window is not None else None
            if window_left is not None:
                return pages.maintenance(window_left)
            if spec.mode == "hang":
                if await state.hold(spec.hang_s):
                    continue  # released by a fault change: answer as the new fault says
                return pages.server_error(style, 504)
            break
        refusal = _refusal(state, style)
        if refusal is not None:
            return refusal
        if spec.mode == "slow":
            await asyncio.sleep(state.slow_delay())
        response = await handler(request)
        if spec.mode == "malformed" and isinstance(response, web.Response):
            return malformed.corrupt(response, state.next_malformation(), style)
        if high > 0:
            await asyncio.sleep(state.latency_rng.uniform(low, high))
        return response

    return fault_middleware
