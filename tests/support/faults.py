"""The fault modes the tests inject into sandbox agencies, and what the gateway must answer."""

from __future__ import annotations

from sandbox import FaultSpec

__all__ = ["DEADLINE", "FAULTS"]

# mode → (fault, the extensions.code a field of that agency fails with)
FAULTS: dict[str, tuple[FaultSpec, str]] = {
    "down": (FaultSpec(mode="down"), "AGENCY_UNAVAILABLE"),
    "hang": (FaultSpec(mode="hang"), "AGENCY_TIMEOUT"),
    "slow": (FaultSpec(mode="slow", latency_p50_ms=4000, latency_p99_ms=6000), "AGENCY_TIMEOUT"),
    "flaky": (FaultSpec(mode="flaky", error_rate=1.0), "AGENCY_UNAVAILABLE"),
    "rate_limited": (FaultSpec(mode="rate_limited", retry_after_s=30), "RATE_LIMITED"),
    "malformed": (FaultSpec(mode="malformed"), "AGENCY_BAD_RESPONSE"),
    "maintenance": (FaultSpec(mode="maintenance"), "AGENCY_MAINTENANCE"),
}

# A request deadline short enough to keep hang and slow tests quick.
DEADLINE = {"X-Request-Timeout": "1.5"}
