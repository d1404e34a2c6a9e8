"""Count GraphQL requests by outcome and time them (DESIGN §6 metrics)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from observability.request_outcome import classify

__all__ = ["RequestMetrics"]


class RequestMetrics(SchemaExtension):
    """`graphql_requests_total{outcome}` (see `observability.request_outcome`) and its duration.

    The `Metrics` object comes from the request context, so one schema can serve several apps.
    It runs outermost, so it sees the errors already shaped with their `extensions.code`. A
    field refused for want of a token counts once as an auth failure `missing`.
    """

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context.context
        metrics = getattr(context, "metrics", None)
        if metrics is None:
            return
        result = self.execution_context.result
        errors = result.errors if result is not None else None
        outcome = classify(errors, result.data if result is not None else None)
        metrics.graphql_requests.labels(outcome).inc()
        metrics.graphql_request_duration.observe(time.perf_counter() - started)
        if getattr(context, "principal", None) is None and any(
            (e.extensions or {}).get("code") == "UNAUTHENTICATED" for e in errors or ()
        ):
            metrics.auth_failures.labels("missing").inc()
