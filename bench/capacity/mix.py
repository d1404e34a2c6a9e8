"""The request mix: shares of each kind of request, and averages of measured costs over them."""

from __future__ import annotations

import math
from collections.abc import Mapping

from bench.capacity.values import QUERIES, TEMPERATURES, Costs

__all__ = ["calls_per_request", "mean", "weights"]


def weights(
    query_share: Mapping[str, float], temperature_share: Mapping[str, float]
) -> dict[str, float]:
    """Share of all requests of each kind (`home-hot`, …); they add up to 1."""
    for name, shares in (("query", query_share), ("temperature", temperature_share)):
        if not math.isclose(sum(shares.values()), 1.0, abs_tol=1e-9):
            raise ValueError(f"the {name} shares must add up to 1, not {sum(shares.values())}")
    return {
        f"{q}-{t}": query_share[q] * temperature_share[t] for q in QUERIES for t in TEMPERATURES
    }


def mean(w: Mapping[str, float], costs: Mapping[str, Costs], field: str) -> float:
    """One cost (`gateway_cpu_ms`, …) per request, weighted by the mix `w`."""
    return sum(share * getattr(costs[kind], field) for kind, share in w.items())


def calls_per_request(
    w: Mapping[str, float], costs: Mapping[str, Costs], agencies: tuple[str, ...]
) -> dict[str, float]:
    """Calls each agency receives per request of the mix `w`."""
    return {
        agency: sum(share * costs[kind].agency_calls.get(agency, 0.0) for kind, share in w.items())
        for agency in agencies
    }
