"""One health probe of an agency: the same transport as real calls, nothing else of the pipeline.

    Prober (observability.probes) ──▶ probe(connector, limit_s) ──▶ Transport.send(GET probe_path)

A probe is a question about the agency, not a citizen's read, so it stays outside what real
calls go through: no breaker (it neither trips nor resets it), no retry, no bulkhead slot, no
retry budget, no cache, and not counted in `agency_requests_total`. It carries no citizen's
identity: `probe_path` is the agency's health endpoint or a read that needs none. Its
`X-Request-Id` is its own, `probe-<agency>-<random>`, so the agency's logs tell it apart.

    answer                                   outcome        maintenance   failure
    2xx and `probe_answer_ok(body)`          OK             no            –
    2xx with any other body, other 4xx       BAD_RESPONSE   no            malformed
    503 with Retry-After (delay or date)     UNAVAILABLE    yes (planned: not a failure)
    other 5xx                                UNAVAILABLE    no            5xx
    refused, reset, DNS                      UNAVAILABLE    no            refused
    429                                      RATE_LIMITED   no            429
    no answer within `limit_s`               TIMEOUT        no            timeout

`ProbeResult.sample` is the probe as the agency health book takes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.outcome import Outcome, failure_of
from connectors.pipeline.retry_after import retry_after_seconds
from connectors.pipeline.transport import TransportRequest
from domain.errors import AgencyError
from observability.agency_health.model import Failure, Sample
from observability.request_ids import REQUEST_ID_HEADER, probe_request_id

__all__ = ["PROBE_MAX_BYTES", "ProbeResult", "probe"]

PROBE_MAX_BYTES = 64 * 1024
"""A health answer is small; a larger one is not an answer in the agency's format."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one probe found, as every instance shares it (see `observability.probes`)."""

    outcome: Outcome
    maintenance: bool
    seconds: float
    at: float  # unix time the probe finished: instances compare results by it
    retry_after: float | None = None
    failure: Failure | None = None  # what failed, when it failed (not in maintenance)

    @property
    def success(self) -> bool:
        return self.outcome is Outcome.OK

    def sample(self, agency: str) -> Sample:
        """This probe as a health sample of `agency`."""
        return Sample(
            agency,
            self.at,
            self.success,
            self.seconds,
            failure=self.failure,
            maintenance=self.maintenance,
            probe=True,
            back_at=self.at + self.retry_after
            if self.maintenance and self.retry_after is not None
            else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        return cls(
            outcome=Outcome(data["outcome"]),
            maintenance=bool(data["maintenance"]),
            seconds=float(data["seconds"]),
            at=float(data["at"]),
            retry_after=None if data.get("retry_after") is None else float(data["retry_after"]),
            failure=Failure(data["failure"]) if data.get("failure") else None,
        )


async def probe(
    connector: AgencyConnector,
    limit_s: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
) -> ProbeResult:
    """GET the connector's `probe_path` once, within `limit_s`, and say what it came to."""
    request = TransportRequest(
        agency=connector.agency_id,
        method="GET",
        url=connector.base_url + connector.probe_path,
        timeout=limit_s,
        max_body_bytes=PROBE_MAX_BYTES,
        headers={REQUEST_ID_HEADER: probe_request_id(connector.agency_id)},
    )
    started = clock()
    maintenance = False
    retry_after: float | None = None
    status: int | None = None
    try:
        response = await connector.transport.send(request)
    except AgencyError as exc:
        outcome = Outcome.of(exc)
    else:
        status = response.status
        retry_after = retry_after_seconds(response.headers.get("Retry-After"), wall())
        if status == 503 and retry_after is not None:
            outcome, maintenance = Outcome.UNAVAILABLE, True
        elif status == 429:
            outcome = Outcome.RATE_LIMITED
        elif status >= 500:
            outcome = Outcome.UNAVAILABLE
        elif status >= 300 or not connector.probe_answer_ok(response.body):
            outcome = Outcome.BAD_RESPONSE
        else:
            outcome = Outcome.OK
    failure = None if maintenance else failure_of(outcome, status)
    return ProbeResult(outcome, maintenance, clock() - started, wall(), retry_after, failure)
