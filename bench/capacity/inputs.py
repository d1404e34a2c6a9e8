"""The capacity model's inputs: measured figures, assumptions, and configuration from the code.

    measured.toml     what `bin/bench` and `python -m bench.redis_ops` measured, each group
                      naming its source (date, command, what the machine was doing)
    assumptions.toml  everything else, each `{value, reason}`; `--set name=value` overrides one
    the code          pool sizes (server.py), agency policies (connectors), probe interval and
                      response-cache max-age (settings defaults)

Kept apart so that nobody mistakes an assumption for a measurement: a measured figure changes
only by measuring again (`python -m bench.capacity.collect` rewrites measured.toml).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from bench.capacity.values import (
    QUERIES,
    TEMPERATURES,
    Assumptions,
    Costs,
    Inputs,
    Limits,
    Measured,
)

__all__ = [
    "ASSUMPTIONS_PATH",
    "CPU_SOURCES",
    "MEASURED_PATH",
    "assumptions_from",
    "code_limits",
    "load_inputs",
    "measured_from",
    "parse_override",
]

HERE = Path(__file__).resolve().parent
MEASURED_PATH = HERE / "measured.toml"
ASSUMPTIONS_PATH = HERE / "assumptions.toml"
_COST_FIELDS = tuple(f.name for f in fields(Costs) if f.name != "agency_calls")
_GIGABYTE = 1e9


CPU_SOURCES = {"bench": "gateway_cpu_ms", "redis-ops": "gateway_cpu_ms_redis_ops"}
"""Which measurement of gateway CPU per request the plan uses: `bin/bench`'s (the default), or
`bench.redis_ops`' (rate limits on, as in production)."""


def measured_from(document: Mapping[str, Any], cpu: str = "bench") -> Measured:
    """`Measured` from measured.toml's tables, gateway CPU from the `cpu` source (see
    `CPU_SOURCES`); a missing kind or figure raises KeyError."""
    costs: dict[str, Costs] = {}
    for q in QUERIES:
        for t in TEMPERATURES:
            kind = f"{q}-{t}"
            row = {**document["costs"][kind]}
            row["gateway_cpu_ms"] = row[CPU_SOURCES[cpu]]
            costs[kind] = Costs(
                **{name: float(row[name]) for name in _COST_FIELDS},
                agency_calls={k: float(v) for k, v in row.get("agency_calls", {}).items()},
            )
    idle = document["idle"]
    memory = document["redis_bytes_per_citizen"]
    return Measured(
        costs=costs,
        idle_redis_commands_per_s=float(idle["redis_commands_per_s"]),
        idle_redis_cpu_ms_per_s=float(idle["redis_cpu_ms_per_s"]),
        redis_bytes_per_citizen={
            k: float(v) for k, v in memory.items() if isinstance(v, int | float)
        },
        redis_bytes_per_audit_record=float(document["audit_stream"]["bytes_per_record"]),
    )


def assumptions_from(
    document: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> Assumptions:
    """`Assumptions` from assumptions.toml (`name = {value, reason}`) with `overrides` applied;
    an unknown name, or one without a reason, raises ValueError."""
    known = {f.name for f in fields(Assumptions)} | {"redis_shard_memory_gb"}
    values: dict[str, Any] = {}
    for name, entry in document.items():
        if name not in known:
            raise ValueError(f"unknown assumption {name!r}")
        if not isinstance(entry, Mapping) or "value" not in entry or not entry.get("reason"):
            raise ValueError(f"assumption {name!r} needs a value and a reason")
        values[name] = entry["value"]
    for name, value in (overrides or {}).items():
        if name not in known:
            raise ValueError(f"unknown assumption {name!r}; known: {', '.join(sorted(known))}")
        values[name] = value
    if "redis_shard_memory_gb" in values:
        values["redis_shard_memory_bytes"] = float(values.pop("redis_shard_memory_gb")) * _GIGABYTE
    return Assumptions(**values)


def code_limits(
    policy_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    audit_stream_maxlen: int | None = None,
) -> Limits:
    """What the code configures: read from it, so the model follows the code. Policy overrides
    take the form of `PANJEREH_AGENCY_POLICIES` (`{"tax": {"max_concurrent": 64}}`); the audit
    stream's length that of `PANJEREH_AUDIT__STREAM_MAXLEN`."""
    from connectors.registry import CONNECTOR_CLASSES
    from observability.audit_settings import AuditSettings
    from observability.probe_settings import ProbeSettings
    from schema.response_cache.config import ResponseCacheConfig
    from server import AGENCY_POOL_LIMIT, AGENCY_POOL_PER_HOST

    unknown = sorted(set(policy_overrides or {}) - set(CONNECTOR_CLASSES))
    if unknown:
        raise ValueError(f"no such agency: {', '.join(unknown)}")
    return Limits(
        pool_total=AGENCY_POOL_LIMIT,
        pool_per_host=AGENCY_POOL_PER_HOST,
        probe_interval_s=ProbeSettings().interval_s,
        response_max_age_s=ResponseCacheConfig().max_age_s,
        audit_stream_maxlen=AuditSettings(
            **({} if audit_stream_maxlen is None else {"stream_maxlen": audit_stream_maxlen})
        ).stream_maxlen,
        policies={
            agency: cls.policy.with_overrides((policy_overrides or {}).get(agency, {}))
            for agency, cls in CONNECTOR_CLASSES.items()
        },
    )


def parse_override(text: str) -> tuple[str, Any]:
    """`name=value`, the value in TOML (`0.3`, `"tax"`, `{home = 0.7, me = 0.3}`, `true`)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"expected name=value, got {text!r}")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{text!r}: the value is not TOML ({exc})") from exc
    return name.strip(), parsed


def load_inputs(
    measured: Path = MEASURED_PATH,
    assumptions: Path = ASSUMPTIONS_PATH,
    overrides: Sequence[tuple[str, Any]] = (),
    *,
    cpu: str = "bench",
    policy_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    audit_stream_maxlen: int | None = None,
) -> tuple[Inputs, dict[str, Any], dict[str, Any]]:
    """The model's inputs, and the two documents (for the report's sources and reasons)."""
    measured_doc = tomllib.loads(measured.read_text(encoding="utf-8"))
    assumed_doc = tomllib.loads(assumptions.read_text(encoding="utf-8"))
    inputs = Inputs(
        measured=measured_from(measured_doc, cpu),
        assumed=assumptions_from(assumed_doc, dict(overrides)),
        limits=code_limits(policy_overrides, audit_stream_maxlen),
    )
    return inputs, measured_doc, assumed_doc
