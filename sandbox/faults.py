"""Fault injection state: what each agency is currently made to do, and its call counter.

The spec is a pydantic model because it arrives over HTTP (admin app, CLI) and must be
validated there with a clear message; the per-agency state keeps its own seeded random
streams so a run's faults are reproducible.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import deque
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.maintenance import MaintenanceWindow

FaultMode = Literal[
    "up", "down", "hang", "slow", "flaky", "rate_limited", "malformed", "maintenance"
]
Malformation = Literal[
    "truncated", "wrong_types", "missing_fields", "xml_bomb", "external_entity", "oversized"
]
MALFORMATIONS: tuple[Malformation, ...] = ("truncated", "wrong_types", "missing_fields")
"""The kinds `malformed` cycles through; the hostile ones (an XML entity bomb, an external
entity, a 50 MB body) are only sent when a spec names them."""
FLAKY_STATUSES = (500, 502, 503, 504)
_Z99 = 2.3263478740408408  # standard normal quantile at 0.99


class FaultSpec(BaseModel):
    """What an agency does to each request; parameters not used by `mode` are ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: FaultMode = "up"
    latency_p50_ms: float = Field(800.0, gt=0, description="slow: median added latency")
    latency_p99_ms: float = Field(3000.0, gt=0, description="slow: 99th percentile latency")
    error_rate: float = Field(
        0.5, ge=0, le=1, description="flaky: share answered 5xx; rate_limited: share answered 429"
    )
    retry_after_s: int = Field(2, ge=0, description="Retry-After of 429 and maintenance answers")
    hang_s: float = Field(300.0, ge=0, description="hang: how long a request is held")
    malformation: Malformation | None = Field(
        None, description="malformed: always this kind instead of cycling through the usual ones"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_error_rate(cls, data: Any) -> Any:
        """error_rate defaults to 0.5 (flaky) but 1.0 for rate_limited: every call is refused."""
        if isinstance(data, dict) and data.get("error_rate") is None:
            default = 1.0 if data.get("mode") == "rate_limited" else 0.5
            return {**data, "error_rate": default}
        return data

    @model_validator(mode="after")
    def _check_latency_order(self) -> FaultSpec:
        if self.latency_p99_ms < self.latency_p50_ms:
            raise ValueError("latency_p99_ms must be at least latency_p50_ms")
        return self


RECENT_REQUEST_IDS = 50


class AgencyFaults:
    """Mutable fault state of one agency, shared by its middleware and the Sandbox."""

    def __init__(self, agency_id: str, seed: int) -> None:
        self.agency_id = agency_id
        self.seed = seed
        self.spec = FaultSpec()
        self.window: MaintenanceWindow | None = None
        self.calls = 0
        self.health_calls = 0  # GET /health: the gateway's probes, kept apart from real calls
        # The `X-Request-Id` of the latest calls (None: sent without one), newest last, as an
        # agency's own log would show which gateway request each call came from.
        self.request_ids: deque[str | None] = deque(maxlen=RECENT_REQUEST_IDS)
        self.health_request_ids: deque[str | None] = deque(maxlen=RECENT_REQUEST_IDS)
        self.closing = False  # set while the Sandbox stops: held requests are dropped
        self._release = asyncio.Event()
        self.reseed()

    def reseed(self) -> None:
        """Restart the random streams, so a fault set now behaves the same in every run."""
        self.rng = random.Random(f"{self.seed}:{self.agency_id}:faults")
        self.latency_rng = random.Random(f"{self.seed}:{self.agency_id}:latency")
        # Health checks draw from their own stream: probes must not shift the faults real
        # calls see in a seeded run.
        self.health_rng = random.Random(f"{self.seed}:{self.agency_id}:health")
        self._malformed_turn = 0

    def set(self, spec: FaultSpec) -> None:
        """Apply a new spec; requests held by `hang` are released to follow it."""
        self.spec = spec
        self.reseed()
        self.release()

    def release(self) -> None:
        """Wake every request held by `hang` so it looks at the state again."""
        self._release.set()
        self._release = asyncio.Event()

    async def hold(self, seconds: float) -> bool:
        """Hang a request: True if released early by a fault change, False when time ran out."""
        try:
            await asyncio.wait_for(self._release.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    def slow_delay(self, rng: random.Random | None = None) -> float:
        """Seconds of latency from a lognormal with the spec's median and 99th percentile."""
        rng = rng or self.rng
        p50 = self.spec.latency_p50_ms / 1000
        p99 = self.spec.latency_p99_ms / 1000
        sigma = math.log(p99 / p50) / _Z99
        return min(rng.lognormvariate(math.log(p50), sigma), 10 * p99)

    def fails(self, rng: random.Random | None = None) -> bool:
        """Whether this call is one of the `error_rate` share that fails."""
        return (rng or self.rng).random() < self.spec.error_rate

    def flaky_status(self, rng: random.Random | None = None) -> int:
        return (rng or self.rng).choice(FLAKY_STATUSES)

    def next_malformation(self) -> Malformation:
        """Malformed answers cycle: truncated, wrong types, missing fields, truncated, ...
        unless the spec names one kind."""
        if self.spec.malformation is not None:
            return self.spec.malformation
        kind = MALFORMATIONS[self._malformed_turn % len(MALFORMATIONS)]
        self._malformed_turn += 1
        return kind
