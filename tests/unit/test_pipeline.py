"""The resilience pipeline of a real connector through a scripted transport: no sockets, no sleeps.

The transport (the thing replaced) answers from a script; the clock and the retry loop's sleep are
injected, so time moves only when a step or a wait says so. Everything else is the real pipeline:
retries, retry budget, breaker, bulkhead, timeouts, deadline, outcome metrics, cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from cache.memory import MemoryCache
from cache.store import CacheStore
from connectors.agencies.post import PostConnector
from connectors.agencies.water import WaterConnector
from connectors.pipeline.base import AgencyConnector
from connectors.pipeline.breaker import BreakerPolicy, CircuitState
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.outcome import Outcome
from connectors.pipeline.policy import AgencyPolicy
from connectors.pipeline.retry_budget import RetryBudgetPolicy
from connectors.pipeline.transport import TransportRequest, TransportResponse
from domain.errors import (
    AgencyBadResponse,
    AgencyInMaintenance,
    AgencyNotFound,
    AgencyRateLimited,
    AgencyRejected,
    AgencyTimeout,
    AgencyUnavailable,
    CircuitOpen,
)
from observability.agency_health.book import AgencyHealthBook
from observability.agency_health.memory_store import MemoryHealthStore
from observability.agency_health.model import Failure
from observability.agency_health.tally import Tally
from observability.metrics import Metrics
from observability.request_outcome import RequestOutcome
from resolvers.context import RequestLoaders
from tests.support.scripted_transport import Clock, ScriptedTransport, json_response

CODE = "0012345679"
ADDRESS = {
    "postalCode": "۱۴۳۳۶۵۴۳۹۱",
    "province": "تهران",
    "city": "تهران",
    "street": "خیابان آزادی",
    "plaque": "۱۲",
}
WATER = {
    "bills": [
        {"subscriptionNo": "S1", "billId": "1234567001", "paymentId": "12340123",
         "amount": 100, "dueDate": "1403/07/20"},
    ]
}  # fmt: skip
OK = json_response(ADDRESS)
UNAVAILABLE = TransportResponse(503)
QUIET_BREAKER = BreakerPolicy(min_calls=1000)  # never opens unless a test says so
POLICY = AgencyPolicy(
    timeout=2.0,
    max_attempts=3,
    backoff_initial=0.1,
    backoff_max=0.4,
    max_retry_after=2.0,
    breaker=QUIET_BREAKER,
    retry_budget=RetryBudgetPolicy(min_retries=100),
)


class Sleep:
    """The retry loop's sleep: records each wait and moves the clock by it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)


class Rig:
    """One connector over a scripted transport, with its clock, sleep and metrics."""

    def __init__(self, cls: type[AgencyConnector] = PostConnector, **policy: Any) -> None:
        self.clock = Clock()
        self.sleep = Sleep(self.clock)
        self.metrics = Metrics()
        self.transport = ScriptedTransport()
        store = CacheStore(MemoryCache(), key_secret=b"k", metrics=self.metrics)
        self.health = AgencyHealthBook(
            [cls.agency_id], MemoryHealthStore(clock=self.clock), clock=self.clock
        )
        self.connector: Any = cls(
            base_url="http://agency.invalid",
            transport=self.transport,
            cache=store,
            metrics=self.metrics,
            policy=POLICY.replace(**policy),
            sleep=self.sleep,
            clock=self.clock,
            health=self.health,
            wall=self.clock,
        )
        self.agency = self.connector.agency_id
        self._started = self.clock()

    async def samples(self) -> Tally:
        """What the health book was given since the rig was made (flushed to its store)."""
        await self.health.flush()
        minutes = range(int(self._started // 60), int(self.clock() // 60) + 1)
        return Tally.total((await self.health.store.minutes(self.agency, minutes)).values())

    async def call(self, deadline: Deadline | None = None, subject: str = CODE) -> Any:
        """One read that bypasses the cache (each test call reaches the transport)."""
        connector = self.connector
        fetch = connector.fetch_address if isinstance(connector, PostConnector) else None
        assert fetch is not None
        return await fetch.__wrapped__(connector, subject, deadline=deadline)

    def outcomes(self) -> dict[str, float]:
        found: dict[str, float] = {}
        for outcome in Outcome:
            labels = {"agency": self.agency, "outcome": outcome.value}
            value = self.metrics.registry.get_sample_value("panjereh_agency_requests_total", labels)
            if value:
                found[outcome.value] = value
        return found

    def sample(self, name: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, {"agency": self.agency, **labels})


def _unavailable() -> AgencyUnavailable:
    return AgencyUnavailable("post", "refused", transient=True)


# -- retries ----------------------------------------------------------------------------------


async def test_transient_failures_are_retried_and_then_answered() -> None:
    rig = Rig()
    rig.transport.add(UNAVAILABLE, _unavailable(), OK)
    address = await rig.call()
    assert address.postal_code == "1433654391"
    assert len(rig.transport.sent) == 3
    assert len(rig.sleep.waits) == 2 and all(0 <= w <= 0.4 for w in rig.sleep.waits)
    assert rig.outcomes() == {"unavailable": 2, "ok": 1}
    assert rig.sample("panjereh_agency_retries_total") == 2
    samples = await rig.samples()  # every attempt: a 503 (an answer) and a refused connection
    assert (samples.ok, samples.failed) == (1, 2)
    assert samples.failures == {Failure.SERVER_ERROR: 1, Failure.REFUSED: 1}


@pytest.mark.parametrize(
    ("response", "error", "outcome"),
    [
        (TransportResponse(500), AgencyUnavailable, "unavailable"),
        (TransportResponse(400), AgencyBadResponse, "bad_response"),
        (TransportResponse(404), AgencyNotFound, "not_found"),
        (TransportResponse(200, {}, b"<html>"), AgencyBadResponse, "bad_response"),
        (TransportResponse(429), AgencyRateLimited, "rate_limited"),  # no Retry-After
    ],
)
async def test_permanent_failures_are_not_retried(
    response: TransportResponse, error: type[Exception], outcome: str
) -> None:
    rig = Rig()
    rig.transport.add(response)
    with pytest.raises(error):
        await rig.call()
    assert len(rig.transport.sent) == 1 and rig.sleep.waits == []
    assert rig.outcomes() == {outcome: 1}


@pytest.mark.parametrize(
    ("answer", "ok", "failure", "maintenance"),
    [
        (OK, 1, None, 0),
        (TransportResponse(404), 1, None, 0),  # not found is an answer
        (TransportResponse(500), 0, Failure.SERVER_ERROR, 0),
        (TransportResponse(503), 0, Failure.SERVER_ERROR, 0),  # a 503 without Retry-After
        (AgencyUnavailable("post", "refused", transient=True), 0, Failure.REFUSED, 0),
        (TransportResponse(429), 0, Failure.RATE_LIMITED, 0),
        (TransportResponse(200, {}, b"<html>"), 0, Failure.MALFORMED, 0),
        (TransportResponse(400), 0, Failure.MALFORMED, 0),
        (TransportResponse(503, {"Retry-After": "600"}), 0, None, 1),  # planned, no failure
    ],
)
async def test_each_attempt_with_a_verdict_is_a_health_sample(
    answer: Any, ok: int, failure: Failure | None, maintenance: int
) -> None:
    rig = Rig(max_attempts=1)
    rig.transport.add(answer)
    with contextlib.suppress(AgencyNotFound, AgencyUnavailable, AgencyBadResponse):
        await rig.call()
    samples = await rig.samples()
    assert (samples.ok, samples.maintenance) == (ok, maintenance)
    assert samples.failures == ({failure: 1} if failure else {})
    assert samples.failed == (1 if failure else 0)


async def test_a_503_with_a_date_as_retry_after_is_maintenance_until_that_date() -> None:
    """Retry-After in either form of RFC 9110 (here an HTTP date) is the agency's maintenance;
    its sample says when the agency said it is back, as the health book's tick reads it."""
    rig = Rig(max_attempts=1)
    back = rig.connector.cache.clock() + 600
    rig.transport.add(TransportResponse(503, {"Retry-After": formatdate(back, usegmt=True)}))
    with pytest.raises(AgencyInMaintenance) as said:
        await rig.call()
    assert said.value.back_at == pytest.approx(back, abs=1)
    assert rig.outcomes() == {"maintenance": 1}
    await rig.health.flush()
    tick = await rig.health.store.take_tick(rig.agency)
    assert tick.maintenance == 1 and tick.failed == 0
    assert tick.back_at == pytest.approx(rig.clock() + 600, abs=1)  # in the samples' time


async def test_a_fault_of_ours_is_no_sample_of_the_agency() -> None:
    rig = Rig(max_attempts=1)
    rig.transport.add(RuntimeError("a bug in the gateway"))
    with pytest.raises(RuntimeError):
        await rig.call()
    assert rig.outcomes() == {"error": 1}
    assert (await rig.samples()).empty


async def test_retry_after_is_waited_for_when_the_policy_accepts_it() -> None:
    rig = Rig()
    rig.transport.add(TransportResponse(429, {"Retry-After": "1"}), OK)
    await rig.call()
    assert rig.sleep.waits == [1.0]
    rig.transport.add(TransportResponse(503, {"Retry-After": "2"}), OK)
    await rig.call()
    assert rig.sleep.waits == [1.0, 2.0]


async def test_a_retry_after_longer_than_the_policy_accepts_ends_the_call() -> None:
    rig = Rig()
    rig.transport.add(TransportResponse(429, {"Retry-After": "30"}))
    with pytest.raises(AgencyRateLimited) as raised:
        await rig.call()
    assert raised.value.retry_after == 30
    assert len(rig.transport.sent) == 1 and rig.sleep.waits == []


async def test_the_retry_budget_bounds_retries_across_calls() -> None:
    rig = Rig(retry_budget=RetryBudgetPolicy(ratio=0.0, min_retries=1, window_s=10))
    rig.transport.add(*[UNAVAILABLE] * 3)
    with pytest.raises(AgencyUnavailable):
        await rig.call()
    assert len(rig.transport.sent) == 2  # one retry: the whole budget
    with pytest.raises(AgencyUnavailable):
        await rig.call()
    assert len(rig.transport.sent) == 3  # no retry left
    rig.clock.advance(11)  # the window slides past the spent retry
    rig.transport.add(UNAVAILABLE, OK)
    await rig.call()
    assert len(rig.transport.sent) == 5


# -- circuit breaker --------------------------------------------------------------------------

BREAKER = BreakerPolicy(
    window_s=30, min_calls=4, failure_rate=0.5, open_s=10, open_jitter=0.0, probe_calls=2
)


async def test_the_breaker_opens_stops_calling_and_probes_after_its_open_time() -> None:
    rig = Rig(max_attempts=1, breaker=BREAKER)
    rig.transport.add(*[UNAVAILABLE] * 4)
    for _ in range(4):
        with pytest.raises(AgencyUnavailable):
            await rig.call()
    assert rig.connector.breaker.state is CircuitState.OPEN
    assert rig.sample("panjereh_agency_circuit_state") == int(CircuitState.OPEN)
    with pytest.raises(CircuitOpen) as raised:
        await rig.call()
    assert raised.value.retry_after == pytest.approx(10)
    assert len(rig.transport.sent) == 4  # the agency was not asked
    assert rig.outcomes()["circuit_open"] == 1

    rig.clock.advance(10)
    assert rig.connector.breaker.state is CircuitState.HALF_OPEN
    rig.transport.add(UNAVAILABLE)  # a failed probe opens it again
    with pytest.raises(AgencyUnavailable):
        await rig.call()
    assert rig.connector.breaker.state is CircuitState.OPEN

    rig.clock.advance(10)
    rig.transport.add(OK, OK)
    await rig.call()
    assert rig.connector.breaker.state is CircuitState.HALF_OPEN  # one probe is not enough
    await rig.call()
    assert rig.connector.breaker.state is CircuitState.CLOSED
    assert rig.sample("panjereh_agency_circuit_state") == int(CircuitState.CLOSED)


async def test_an_open_circuit_ends_the_retries() -> None:
    rig = Rig(max_attempts=3, breaker=BREAKER)
    rig.connector.breaker.force(CircuitState.OPEN)
    with pytest.raises(CircuitOpen):
        await rig.call()
    assert rig.transport.sent == [] and rig.sleep.waits == []


async def test_not_found_is_a_success_for_the_breaker() -> None:
    rig = Rig(max_attempts=1, breaker=BREAKER)
    rig.transport.add(*[TransportResponse(404)] * 6)
    for _ in range(6):
        with pytest.raises(AgencyNotFound):
            await rig.call()
    assert rig.connector.breaker.state is CircuitState.CLOSED
    samples = await rig.samples()
    assert (samples.ok, samples.failed) == (6, 0)  # the agency answered: not found is ok


# -- mapping failures -------------------------------------------------------------------------


async def test_an_answer_that_does_not_map_is_a_failed_attempt() -> None:
    """A nine-digit postal code parses as the wire model but cannot be a domain address: the
    attempt is `bad_response`, a failed sample of the agency, and the breaker counts a failure."""
    rig = Rig(max_attempts=1, breaker=BREAKER)
    nine_digits = json_response({**ADDRESS, "postalCode": "۱۴۳۳۶۵۴۳۲"})
    rig.transport.add(OK, *[nine_digits] * 3)
    await rig.call()
    for _ in range(3):
        with pytest.raises(AgencyBadResponse):
            await rig.call()
    assert rig.outcomes() == {"ok": 1, "bad_response": 3}
    samples = await rig.samples()
    assert (samples.ok, samples.failed, samples.failures) == (1, 3, {Failure.MALFORMED: 3})
    assert rig.connector.breaker.state is CircuitState.OPEN  # 3 failures of 4 calls
    assert len(rig.sleep.waits) == 0  # a malformed answer is not retried


async def test_a_mapping_failure_is_not_cached() -> None:
    rig = Rig(max_attempts=1)
    rig.transport.add(json_response({**ADDRESS, "postalCode": "123"}), OK)
    with pytest.raises(AgencyBadResponse):
        await rig.connector.fetch_address(CODE)
    fetched = await rig.connector.fetch_address(CODE)
    assert fetched.value.postal_code == "1433654391"
    assert len(rig.transport.sent) == 2


# -- bulkhead ---------------------------------------------------------------------------------


async def test_the_bulkhead_holds_calls_beyond_its_slots_until_one_frees() -> None:
    rig = Rig(max_concurrent=1)
    release = asyncio.Event()
    in_flight = 0
    most = 0

    async def held(request: TransportRequest) -> TransportResponse:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await release.wait()
        in_flight -= 1
        return OK

    rig.transport.add(held, held)
    first = asyncio.create_task(rig.call())
    second = asyncio.create_task(rig.call(subject="0012345680"))
    for _ in range(5):
        await asyncio.sleep(0)  # let both reach the bulkhead
    assert len(rig.transport.sent) == 1  # the second waits for the slot
    release.set()
    await asyncio.gather(first, second)
    assert most == 1 and len(rig.transport.sent) == 2


async def test_a_call_that_finds_no_slot_in_its_time_is_rejected_without_a_verdict() -> None:
    rig = Rig(max_concurrent=1, max_attempts=1, breaker=dataclasses.replace(BREAKER, min_calls=1))
    release = asyncio.Event()

    async def held(request: TransportRequest) -> TransportResponse:
        await release.wait()
        return OK

    rig.transport.add(held)
    first = asyncio.create_task(rig.call())
    await asyncio.sleep(0)
    # The caller's deadline leaves 0.06 s, spent waiting for the slot (the one real wait here).
    with pytest.raises(AgencyRejected):
        await rig.call(deadline=Deadline.after(0.06, clock=rig.clock))
    assert len(rig.transport.sent) == 1
    assert rig.outcomes().get("rejected") == 1
    assert rig.connector.breaker.state is CircuitState.CLOSED  # no verdict on the agency
    release.set()
    await first


# -- timeouts and the deadline ----------------------------------------------------------------


def _times_out(clock: Clock) -> Any:
    """A step that takes the whole time it was given, then fails as the transport would."""

    def step(request: TransportRequest) -> TransportResponse:
        clock.advance(request.timeout)
        raise AgencyTimeout("post", "no answer", transient=True)

    return step


async def test_an_attempt_is_bounded_by_the_policy_timeout_or_the_time_left() -> None:
    rig = Rig()
    rig.transport.add(OK, OK)
    await rig.call()
    assert rig.transport.sent[0].timeout == 2.0
    await rig.call(deadline=Deadline.after(0.7, clock=rig.clock))
    assert rig.transport.sent[1].timeout == pytest.approx(0.7)
    assert rig.transport.sent[1].max_body_bytes == POLICY.max_body_bytes


async def test_a_timeout_with_the_full_policy_time_is_a_failure_of_the_agency() -> None:
    rig = Rig(max_attempts=1, breaker=BREAKER)
    rig.transport.add(*[_times_out(rig.clock)] * 4)
    for _ in range(4):
        with pytest.raises(AgencyTimeout):
            await rig.call(deadline=Deadline.after(60, clock=rig.clock))
    assert rig.outcomes() == {"timeout": 4}
    samples = await rig.samples()
    assert (samples.ok, samples.failed, samples.failures) == (0, 4, {Failure.TIMEOUT: 4})
    assert samples.quantile(0.95) == pytest.approx(2.0, rel=0.2)  # each waited its 2 s
    assert rig.connector.breaker.state is CircuitState.OPEN


async def test_a_timeout_cut_short_by_the_callers_deadline_says_nothing_of_the_agency() -> None:
    rig = Rig(breaker=BREAKER)
    for _ in range(6):
        rig.transport.add(_times_out(rig.clock))
        with pytest.raises(AgencyTimeout):
            await rig.call(deadline=Deadline.after(0.5, clock=rig.clock))
    assert len(rig.transport.sent) == 6  # the deadline left no time for a retry
    assert rig.outcomes() == {"deadline": 6}
    assert (await rig.samples()).empty  # nothing said of the agency
    assert rig.connector.breaker.state is CircuitState.CLOSED


async def test_no_agency_is_called_once_the_deadline_has_passed() -> None:
    rig = Rig()
    deadline = Deadline.after(1.0, clock=rig.clock)
    rig.clock.advance(1.0)
    with pytest.raises(AgencyTimeout):
        await rig.call(deadline=deadline)
    assert rig.transport.sent == []


async def test_no_retry_waits_past_the_deadline() -> None:
    rig = Rig()
    rig.transport.add(TransportResponse(429, {"Retry-After": "1"}))
    with pytest.raises(AgencyRateLimited):
        await rig.call(deadline=Deadline.after(0.8, clock=rig.clock))
    assert len(rig.transport.sent) == 1 and rig.sleep.waits == []


async def test_an_operation_hands_the_callers_deadline_to_its_flight() -> None:
    rig = Rig()
    rig.transport.add(OK)
    fetched = await rig.connector.fetch_address(CODE, deadline=Deadline.after(0.9, clock=rig.clock))
    assert fetched.value.postal_code == "1433654391"
    assert rig.transport.sent[0].timeout == pytest.approx(0.9)


async def test_a_background_refresh_gets_the_agencys_whole_budget() -> None:
    rig = Rig(fresh_ttl=100, stale_ttl=1000, refresh_ahead=0.2)
    store_clock = Clock(now=50_000.0)
    rig.connector.cache.clock = store_clock  # the cache's wall clock, moved by the test
    rig.transport.add(OK, OK)
    await rig.connector.fetch_address(CODE)
    store_clock.advance(90)  # within the last fifth of the fresh window
    hurried = Deadline.after(0.3, clock=rig.clock)
    fetched = await rig.connector.fetch_address(CODE, deadline=hurried)
    assert fetched.source.stale is False  # answered from the cache at once
    for _ in range(5):
        await asyncio.sleep(0)  # let the refresh run
    assert len(rig.transport.sent) == 2
    assert rig.transport.sent[1].timeout == 2.0  # not the hurried caller's 0.3 s


# -- the in-process cache ---------------------------------------------------------------------


async def test_an_in_process_hit_is_the_stored_object_and_a_list_is_a_tuple() -> None:
    rig = Rig(cls=WaterConnector)
    rig.transport.add(json_response(WATER))
    first = await rig.connector.fetch_bills(CODE)
    second = await rig.connector.fetch_bills(CODE)
    assert len(rig.transport.sent) == 1
    assert isinstance(first.value, tuple) and first.value[0].amount_rial == 100
    assert second.value is first.value  # no decoding, no validation: the same object
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        second.value[0].amount_rial = 1


def test_outcome_label_values_are_the_ones_dashboards_select_on() -> None:
    assert {o.value for o in Outcome} == {
        "ok", "not_found", "timeout", "unavailable", "rate_limited", "bad_response",
        "maintenance", "rejected", "circuit_open", "deadline", "cancelled", "error",
    }  # fmt: skip
    assert Outcome.of(AgencyRejected("a", "x")) is Outcome.REJECTED
    assert Outcome.of(CircuitOpen("a", "x")) is Outcome.CIRCUIT_OPEN
    assert Outcome.of(AgencyTimeout("a", "x")) is Outcome.TIMEOUT
    assert Outcome.of(AgencyBadResponse("a", "x")) is Outcome.BAD_RESPONSE
    assert Outcome.of(AgencyInMaintenance("a", 10.0, now=0.0)) is Outcome.MAINTENANCE
    assert [o for o in Outcome if o.verdict is None] == [
        Outcome.MAINTENANCE, Outcome.REJECTED, Outcome.CIRCUIT_OPEN, Outcome.DEADLINE,
        Outcome.CANCELLED,
    ]  # fmt: skip


def test_every_outcome_the_alert_rules_name_is_an_outcome() -> None:
    """Each metric's `outcome` selectors name values that metric has."""
    prometheus = Path(__file__).parents[2] / "deploy" / "prometheus"
    rules = "\n".join(
        (prometheus / name).read_text() for name in ("alerts.yml", "recording-rules.yml")
    )

    def named(metric: str) -> set[str]:
        pattern = metric + r'\{outcome[=!~]+"([^"]+)"'
        return {v for selector in re.findall(pattern, rules) for v in selector.split("|")}

    agency = named("panjereh_agency_requests_total")
    assert agency and agency <= {o.value for o in Outcome}
    gateway = named("panjereh_graphql_requests_total")
    assert gateway and gateway <= {o.value for o in RequestOutcome}
    every = {v for s in re.findall(r'outcome[=!~]+"([^"]+)"', rules) for v in s.split("|")}
    assert every <= agency | gateway  # no outcome selector on another metric goes unchecked


async def test_a_requests_loaders_hand_its_deadline_to_every_agency_call() -> None:
    """No ambient deadline: what an agency call gets is what the request's loaders hold."""
    rig = Rig()
    rig.transport.add(OK)
    deadline = Deadline.after(0.8, clock=rig.clock)
    loaders = RequestLoaders().for_deadline(deadline)
    assert loaders.deadline is deadline
    fetched = await loaders.load(rig.connector.fetch_address, CODE)
    assert fetched.value.postal_code == "1433654391"
    assert rig.transport.sent[0].timeout == pytest.approx(0.8)
