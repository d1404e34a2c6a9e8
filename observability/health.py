"""`/healthz` (process alive), `/readyz` (config loaded, cache reachable, not shutting down) and
`/metrics`."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cache.store import CacheStore
from observability.drain import Drain
from observability.metrics import Metrics

__all__ = ["health_routes"]


def health_routes(
    metrics: Metrics, cache: web.AppKey[CacheStore], drain: Drain | None = None
) -> list[web.RouteDef]:
    """Routes for probes and scraping; the cache is looked up per call since it starts later.
    From the moment `drain` has begun (SIGTERM) `/readyz` answers 503, whatever else holds."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        if drain is not None and drain.draining:
            return web.json_response({"status": "draining"}, status=503)
        store = request.app.get(cache)
        if store is None:
            return web.json_response({"status": "starting"}, status=503)
        # A degraded cache still answers (from memory): ready, but said so for ops.
        reachable = await store.ping() and not getattr(store.backend, "degraded", False)
        return web.json_response(
            {"status": "ready" if reachable else "degraded", "cache": store.backend.name}
        )

    async def scrape(request: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return [
        web.get("/healthz", healthz),
        web.get("/readyz", readyz),
        web.get("/metrics", scrape),
    ]
