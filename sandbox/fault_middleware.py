"""The aiohttp middleware that makes an agency misbehave as its fault state says.

It wraps the agency's real handlers, so every fault mode is applied in front of a genuine
answer (slow answers are real answers, malformed ones are real answers broken). The health
endpoint (`GET /health`, see `sandbox.health`) sits behind the same middleware, so it fails
exactly as the agency does; its calls are counted apart (`health_calls`) and its random draws
come from their own stream, so probes change neither `calls` nor a seeded run's faults. The
`X-Request-Id` of each call is kept too (`request_ids`, `health_request_ids`), as an agency's
log would keep it.
"""

from __future__ import annotations

import asyncio
import random

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from sandbox import malformed, pages
from sandbox.faults import AgencyFaults
from sandbox.health import HEALTH_PATH
from sandbox.pages import WireStyle


def _refusal(state: AgencyFaults, style: WireStyle, rng: random.Random) -> web.Response | None:
    """The answer of an agency that refuses this call without doing the work, if it does."""
    spec = state.spec
    if spec.mode == "maintenance":
        return pages.maintenance(spec.retry_after_s)
    if spec.mode == "flaky" and state.fails(rng):
        return pages.server_error(style, state.flaky_status(rng))
    if spec.mode == "rate_limited" and state.fails(rng):
        return pages.too_many_requests(style, spec.retry_after_s)
    return None


def _count(
    state: AgencyFaults, health: bool, request_id: str | None
) -> tuple[random.Random, random.Random]:
    """Count the call (and keep its request id) where it belongs; the random streams (faults,
    latency) it draws from."""
    if health:
        state.health_calls += 1
        state.health_request_ids.append(request_id)
        return state.health_rng, state.health_rng
    state.calls += 1
    state.request_ids.append(request_id)
    return state.rng, state.latency_rng


def make_fault_middleware(
    state: AgencyFaults, style: WireStyle, latency_ms: tuple[float, float]
) -> Middleware:
    """Middleware counting every request and applying `state` to it."""
    low, high = latency_ms[0] / 1000, latency_ms[1] / 1000

    @web.middleware
    async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        health = request.path == HEALTH_PATH
        rng, latency_rng = _count(state, health, request.headers.get("X-Request-Id"))
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
        refusal = _refusal(state, style, rng)
        if refusal is not None:
            return refusal
        if spec.mode == "slow":
            await asyncio.sleep(state.slow_delay(rng))
        response = await handler(request)
        if spec.mode == "malformed" and isinstance(response, web.Response):
            if health:  # the health answer is JSON whatever the agency's own style
                return malformed.corrupt(response, spec.malformation or "truncated", "json")
            return malformed.corrupt(response, state.next_malformation(), style)
        if high > 0:
            await asyncio.sleep(latency_rng.uniform(low, high))
        return response

    return fault_middleware
