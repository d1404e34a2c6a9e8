"""Count GraphQL requests by outcome and time them (DESIGN §6 metrics)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

__all__ = ["RequestMetrics"]


class RequestMetrics(SchemaExtension):
    """`graphql_requests_total{outcome}` (ok, partial, error) and its duration histogram.

    The `Metrics` object comes from the request context, so one schema can serve several apps.
    """

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        metrics = getattr(self.execution_context.context, "metrics", None)
        if metrics is None:
            return
        result = self.execution_context.result
        if result is None or not result.errors:
            outcome = "ok"
        elif result.data and any(value is not None for value in result.data.values()):
            outcome = "partial"
        else:
            outcome = "error"  # nothing the client asked for could be answered
        metrics.graphql_requests.labels(outcome).inc()
        metrics.graphql_request_duration.observe(time.perf_counter() - started)
