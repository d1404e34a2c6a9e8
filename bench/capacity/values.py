"""The capacity model's values: what goes in (measured, assumed, configured) and what comes out.

Frozen dataclasses only; the arithmetic is in `bench.capacity.model` and `bench.capacity.outage`.
Units: seconds, requests/s, ms of CPU per request, bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from connectors.pipeline.policy import AgencyPolicy

__all__ = [
    "DAY_S",
    "QUERIES",
    "TEMPERATURES",
    "AgencyLoad",
    "Assumptions",
    "Costs",
    "Failing",
    "Inputs",
    "Limit",
    "Limits",
    "Measured",
    "Outage",
    "Peak",
    "Plan",
]

QUERIES = ("home", "me")
"""The two requests measured: the home screen and the full citizen record."""
TEMPERATURES = ("hot", "warm", "cold")
"""hot: the response cache answers; warm: executed from cached agency data; cold: agencies asked."""
DAY_S = 86_400.0


@dataclass(frozen=True)
class Costs:
    """What one request of one kind (e.g. `me-cold`) costs, measured."""

    gateway_cpu_ms: float
    redis_cpu_ms: float
    redis_commands: float
    """Commands Redis executed, those run inside scripts included (its CPU follows these)."""
    redis_round_trips: float
    """Commands the gateway sent (a script is one): the network round trips."""
    redis_bytes: float
    """Bytes to and from Redis."""
    response_bytes: float
    """Size of the answer as kept by the response cache (its hot reads' bytes out)."""
    agency_calls: Mapping[str, float]


@dataclass(frozen=True)
class Measured:
    costs: Mapping[str, Costs]
    """By `query-temperature`, e.g. `home-hot`."""
    idle_redis_commands_per_s: float
    idle_redis_cpu_ms_per_s: float
    """At rest, per gateway process: probes, health book, followers of shared state."""
    redis_bytes_per_citizen: Mapping[str, float]
    """What one citizen's answers from each agency hold in Redis (`MEMORY USAGE`)."""
    redis_bytes_per_audit_record: float
    """What one record of a process's audit stream holds in Redis."""


@dataclass(frozen=True)
class Assumptions:
    """Everything not measured; each value's reason is in assumptions.toml."""

    peak_month_transactions: float
    annual_transactions: float
    requests_per_transaction: float
    days_in_peak_month: float
    peak_day_factor: float
    peak_hour_share: float
    burst_factor: float
    query_share: Mapping[str, float]
    temperature_share: Mapping[str, float]
    cpu_target_utilisation: float
    cores_per_pod: int
    worker_efficiency: float
    min_pods: int
    redis_target_utilisation: float
    redis_shard_memory_bytes: float
    redis_keeps_stale_windows: bool
    agency_latency_s: float
    agencies_behind_one_host: bool
    monthly_active_citizens: float
    requests_per_citizen_day: float
    outage_agency: str
    outage_reload_share: float
    agency_quota_per_s: float | None = None


@dataclass(frozen=True)
class Limits:
    """Configuration read from the code: what one gateway process may hold open."""

    pool_total: int
    pool_per_host: int
    probe_interval_s: float
    response_max_age_s: float
    audit_stream_maxlen: int
    """Records each gateway process keeps in its audit stream (no TTL: never evicted)."""
    policies: Mapping[str, AgencyPolicy]


@dataclass(frozen=True)
class Inputs:
    measured: Measured
    assumed: Assumptions
    limits: Limits


@dataclass(frozen=True)
class Peak:
    average_month: float
    peak_month_ratio: float
    average_day: float
    peak_day: float
    peak_hour: float
    rps: float


@dataclass(frozen=True)
class AgencyLoad:
    agency: str
    calls_per_s: float
    """Fleet-wide at peak, health probes included."""
    calls_per_request: float
    per_process_per_s: float
    in_flight_per_process: float
    bulkhead: int
    latency_limit_s: float
    """The agency latency at which this bulkhead fills before the CPU does."""
    redis_bytes: float
    """Its answers held in Redis for their windows."""


@dataclass(frozen=True)
class Limit:
    """How many requests/s one resource lets through, and for what scope."""

    resource: str
    scope: str
    rps: float


@dataclass(frozen=True)
class Outage:
    agency: str
    queries_hit: tuple[str, ...]
    rps: float
    cpu_ms: float
    cores: float
    utilisation: float
    """Of the planned fleet's cores, at peak, with the agency out."""
    redis_cores: float
    redis_utilisation: float
    calls_per_s: Mapping[str, float]
    """Every agency's calls/s during the outage (the failed one: once its breaker is open)."""
    hang: Failing
    refused: Failing
    held_per_process: float
    """Requests per process waiting on a hanging agency while its breaker is closed."""


@dataclass(frozen=True)
class Failing:
    """How hard the failed agency is called, fleet-wide, when it fails one way."""

    closed_attempts_per_s: float
    """While breakers are still closed (the outage's first seconds)."""
    bound: str
    """What bounds those attempts: the attempt limit, the retry budget or the bulkhead."""
    seconds_to_open: float
    open_attempts_per_s: float
    """Once open: half-open probes, and the health probes."""


@dataclass(frozen=True)
class Plan:
    peak: Peak
    cpu_ms: float
    redis_cpu_ms: float
    redis_commands: float
    redis_round_trips: float
    redis_bytes: float
    cores: float
    pods: int
    processes: int
    redis_commands_per_s: float
    redis_round_trips_per_s: float
    redis_cores: float
    redis_bytes_per_s: float
    redis_memory_bytes: float
    """What the shards are sized for: the answers (for their stale windows, or only their
    fresh ones), the audit streams and the response cache."""
    redis_answers_stale_bytes: float
    redis_answers_fresh_bytes: float
    redis_audit_bytes: float
    redis_responses_bytes: float
    redis_shards_cpu: int
    redis_shards_memory: int
    redis_shards: int
    agencies: tuple[AgencyLoad, ...]
    limits: tuple[Limit, ...]
    first_bottleneck: Limit
    outage: Outage
