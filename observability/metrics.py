"""Every Prometheus metric of Panjereh, defined once (DESIGN §6).

Metrics live in a per-app `CollectorRegistry` so that several gateways in one process (tests, the
benchmark) never collide on the global registry; the process, platform and garbage-collector
collectors prometheus-client puts on its global registry are registered on this one too, so
`process_*` and `python_*` series are scraped with ours. No `_created` series: they double every
counter's series count and no rule reads them (prometheus-client's switch is process-wide).
Label values are bounded: agency ids, outcome and result names, cache kinds, auth failure reasons.
Never a national code, query text or operation name.

Several workers on one port (`serve --workers N`, workers/): prometheus-client's multiprocess
mode. The supervisor gives every worker PROMETHEUS_MULTIPROC_DIR (fresh for each run), each
worker's values go to files there, and `registry` is then what a scrape must read: every
worker's files merged (`MultiProcessCollector`), each live worker's `process_*` labelled by its
slot (observability.worker_processes), `python_info` and the build info; the instruments sit in a
registry of their own that nobody scrapes (registering them next to the merged files would
export them twice). Counters and histograms are summed over every worker of the run, dead ones
included, so a replaced worker loses nothing and counts nothing twice. Each gauge says how
workers' values combine (`multiprocess_mode`; ignored in a single process): `livesum` for what
each worker holds (in-flight requests, bulkhead slots, cache bytes, pending audit records),
`livemax` for "any worker" flags (circuit open, cache degraded), `livemostrecent` for the fleet
state every worker sets each tick from the shared records. `python_gc_*` are left out there:
they would be one worker's, shown as the host's.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from importlib import metadata

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.multiprocess import MultiProcessCollector

from observability.worker_processes import WorkerProcessCollector

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_dir() -> str | None:
    """The directory prometheus-client keeps values in when workers share a port (it reads the
    same variable when it is imported); None in a single process."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


@dataclass
class Metrics:
    """The gateway's metrics, registered in their own registry (`registry`: what /metrics
    serves)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    multiprocess_dir: str | None = field(default_factory=multiprocess_dir)

    def __post_init__(self) -> None:
        disable_created_metrics()
        if self.multiprocess_dir:
            r = CollectorRegistry()  # the instruments: their values are read from the files
            MultiProcessCollector(self.registry, path=self.multiprocess_dir)
            WorkerProcessCollector(self.multiprocess_dir, registry=self.registry)
        else:
            r = self.registry
            ProcessCollector(registry=r)
            GCCollector(registry=r)
        PlatformCollector(registry=self.registry)
        self.build_info = Info(
            "panjereh_build", "Version of Panjereh and of Python.", registry=self.registry
        )
        self.build_info.info({"version": _version(), "python": platform.python_version()})
        self.agency_requests = Counter(
            "panjereh_agency_requests_total",
            "Upstream calls to an agency by outcome (one per attempt).",
            ["agency", "outcome"],
            registry=r,
        )
        self.agency_request_duration = Histogram(
            "panjereh_agency_request_duration_seconds",
            "Duration of one upstream call to an agency.",
            ["agency"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.agency_up = Gauge(
            "panjereh_agency_up",
            "1 while the agency's fleet-wide state is UP or DEGRADED, else 0 (DOWN, MAINTENANCE).",
            ["agency"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.agency_state = Gauge(
            "panjereh_agency_state",
            "1 for the agency's fleet-wide state (UP, DEGRADED, DOWN, MAINTENANCE), 0 for the "
            "other three; every instance exports the same values.",
            ["agency", "state"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.agency_failure_ratio = Gauge(
            "panjereh_agency_failure_ratio",
            "Failed / all samples (probes and calls, maintenance left out) over the last 5 "
            "minutes, fleet-wide; NaN without samples.",
            ["agency"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.agency_availability_ratio = Gauge(
            "panjereh_agency_availability_ratio",
            "Mean good share of the minutes with samples over the window (5m, 1h, 24h, 7d), "
            "planned maintenance excluded or included (counted as unavailable); NaN without "
            "samples.",
            ["agency", "window", "maintenance"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.agency_latency_p95 = Gauge(
            "panjereh_agency_latency_p95_seconds",
            "95th percentile of the agency's probe and call durations over the last 5 minutes, "
            "fleet-wide; NaN without samples.",
            ["agency"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.agency_circuit_state = Gauge(
            "panjereh_agency_circuit_state",
            "Circuit state of an agency: 0 closed, 1 half-open, 2 open.",
            ["agency"],
            multiprocess_mode="livemax",
            registry=r,
        )
        self.agency_probe_success = Gauge(
            "panjereh_agency_probe_success",
            "1 when the agency's last health probe got a healthy answer, else 0.",
            ["agency"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.agency_probe_duration = Gauge(
            "panjereh_agency_probe_duration_seconds",
            "Duration of the agency's last health probe.",
            ["agency"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.agency_maintenance = Gauge(
            "panjereh_agency_maintenance",
            "1 while the agency is in PLANNED maintenance (fleet-wide state MAINTENANCE in a "
            "calendar or ops window; agency_up is 0 then), else 0. An agency announcing "
            "maintenance itself is panjereh_agency_announced_maintenance.",
            ["agency"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.agency_announced_maintenance = Gauge(
            "panjereh_agency_announced_maintenance",
            "1 while the agency's fleet-wide state is MAINTENANCE only because the agency says "
            "so itself (503 with Retry-After, no calendar or ops window), else 0.",
            ["agency"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.agency_probes = Counter(
            "panjereh_agency_probes_total",
            "Health probes this instance made, by outcome (an Outcome value, or maintenance).",
            ["agency", "outcome"],
            registry=r,
        )
        self.agency_retries = Counter(
            "panjereh_agency_retries_total",
            "Retries of upstream calls (attempts after the first).",
            ["agency"],
            registry=r,
        )
        self.cache_lookups = Counter(
            "panjereh_cache_lookups_total",
            "Lookups of agency answers in the cache by agency, data kind and result (hit, miss, "
            "stale, error: the backend failed); the response cache counts its own.",
            ["agency", "kind", "result"],
            registry=r,
        )
        self.cache_degraded = Gauge(
            "panjereh_cache_degraded",
            "1 while the cache serves from its in-memory fallback because Redis failed, else 0.",
            multiprocess_mode="livemax",
            registry=r,
        )
        self.cache_backend_errors = Counter(
            "panjereh_cache_backend_errors_total",
            "Failed calls to a shared cache backend (each one is served from the fallback).",
            ["backend"],
            registry=r,
        )
        self.cache_memory_bytes = Gauge(
            "panjereh_cache_memory_bytes",
            "Bytes charged to the in-process cache (agency data and responses), against its "
            "budget PANJEREH_CACHE_MAX_BYTES.",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.cache_memory_entries = Gauge(
            "panjereh_cache_memory_entries",
            "Entries in the in-process cache (agency data and responses).",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.response_cache = Counter(
            "panjereh_response_cache_total",
            "Response cache outcomes: hit, miss, stored, or uncacheable (an error, a stale or "
            "failed part, a mutation, a field that must not be cached).",
            ["result"],
            registry=r,
        )
        self.stale_served = Counter(
            "panjereh_stale_served_total",
            "Answers served from a stale cache copy because the agency failed.",
            ["agency"],
            registry=r,
        )
        self.graphql_requests = Counter(
            "panjereh_graphql_requests_total",
            "GraphQL requests by outcome: ok (answered; `not found` is an answer), partial (some "
            "fields failed for an agency, in maintenance or not, or a fault of ours; others "
            "answered), maintenance (nothing answered, only for agencies in maintenance), "
            "client_error (refused for the request or its caller: token, input, query, limits, "
            "4xx/429), error (nothing answered, for an agency or a fault of ours).",
            ["outcome"],
            registry=r,
        )
        self.rate_limited = Counter(
            "panjereh_rate_limited_total",
            "Refusals for being over a budget, by kind of caller (citizen, client, anonymous) "
            "and budget (requests, lookups, shahkar).",
            ["kind", "limit"],
            registry=r,
        )
        self.graphql_request_duration = Histogram(
            "panjereh_graphql_request_duration_seconds",
            "Duration of a GraphQL request.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.graphql_in_flight = Gauge(
            "panjereh_graphql_requests_in_flight",
            "GraphQL requests over HTTP being answered right now.",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.auth_failures = Counter(
            "panjereh_auth_failures_total",
            "Requests, WebSocket connections and operations refused for their token, by "
            "reason: missing, malformed, untrusted (issuer or key), invalid (claims), expired, "
            "not_yet_valid, lifetime (longer or older than allowed).",
            ["reason"],
            registry=r,
        )
        self.agency_bulkhead_in_use = Gauge(
            "panjereh_agency_bulkhead_in_use",
            "Call slots of an agency's bulkhead held right now.",
            ["agency"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.agency_bulkhead_capacity = Gauge(
            "panjereh_agency_bulkhead_capacity",
            "Call slots of an agency's bulkhead (its policy's max_concurrent).",
            ["agency"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.maintenance_refreshes = Counter(
            "panjereh_maintenance_refreshes_total",
            "Cached operations of recently active citizens run again shortly before an agency's "
            "maintenance window, by result: refreshed, fresh (already fresh through the window), "
            "failed, late (the window began first).",
            ["agency", "result"],
            registry=r,
        )
        self.agency_circuit_forced = Gauge(
            "panjereh_agency_circuit_forced",
            "1 while ops hold the agency's circuit (OPEN or CLOSED), 0 while the breaker decides.",
            ["agency"],
            multiprocess_mode="livemax",
            registry=r,
        )

        self.audit_records = Counter(
            "panjereh_audit_records_total",
            "Audit records written, by sink (file, redis, index).",
            ["sink"],
            registry=r,
        )
        self.audit_sink_errors = Counter(
            "panjereh_audit_sink_errors_total",
            "Failed writes of a batch of audit records to a sink (the batch is kept and retried).",
            ["sink"],
            registry=r,
        )
        self.audit_pending = Gauge(
            "panjereh_audit_pending_records",
            "Audit records waiting for a sink (grows while the sink fails).",
            ["sink"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.audit_dropped = Counter(
            "panjereh_audit_records_dropped_total",
            "Audit records dropped because a sink failed for longer than its pending bound.",
            ["sink"],
            registry=r,
        )
        self.audit_resume_skipped = Counter(
            "panjereh_audit_resume_skipped_lines_total",
            "Lines at the end of the audit file that are not authentic records of this "
            "instance's chain, passed over at start (`audit verify` reports them).",
            registry=r,
        )

    def declare_agencies(self, agency_ids: list[str]) -> None:
        """Create every agency's series up front, so dashboards see zeros instead of gaps."""
        for agency in agency_ids:
            self.agency_circuit_state.labels(agency).set(0)
            self.agency_circuit_forced.labels(agency).set(0)
            self.agency_bulkhead_in_use.labels(agency).set(0)
            self.agency_retries.labels(agency)
            self.stale_served.labels(agency)
            self.agency_request_duration.labels(agency)


def _version() -> str:
    try:
        return metadata.version("panjereh")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
