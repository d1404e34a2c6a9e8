"""A request's agency lookups without sockets: one task per distinct lookup (the budget spent
inside it), shared by every field that asks, each failing alone, and what the audit and the
response cache read afterwards."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import connectors.registry  # noqa: F401 - the connectors name their agencies
from auth.principal import Principal, PrincipalKind
from domain.errors import AgencyNotFound, AgencyUnavailable, QueryTooComplex, RateLimited
from domain.sourced import Fetched, PartStatus, Source, SourceState
from observability.metrics import Metrics
from ratelimits.config import CitizenLimits, RateLimits
from ratelimits.limiter import RateLimiter
from ratelimits.windows import Windows
from resolvers.aggregate import SourcePart, combine, gather_parts, settle
from resolvers.loaders import RequestLoaders

CODE = "0012345679"
AT = dt.datetime(2024, 10, 6, 12, 0, tzinfo=dt.UTC)


class _Agency:
    """An agency operation that answers at once, or when `gate` opens, or fails for `failing`."""

    def __init__(self, agency_id: str, *, failing: frozenset[str] = frozenset()) -> None:
        self.agency_id = agency_id
        self.calls: list[tuple[Any, ...]] = []
        self.deadlines: list[Any] = []
        self.gate: asyncio.Event | None = None
        self._failing = failing

    async def fetch(self, *args: Any, deadline: Any = None) -> Fetched[str]:
        self.calls.append(args)
        self.deadlines.append(deadline)
        if self.gate is not None:
            await self.gate.wait()
        if args[0] in self._failing:
            raise AgencyUnavailable(self.agency_id, "down")
        return Fetched(f"{self.agency_id}:{args[0]}", Source(self.agency_id, AT))


@contextmanager
def _counting_tasks() -> Iterator[list[str]]:
    """The coroutine names of every task created on the running loop meanwhile."""
    loop = asyncio.get_running_loop()
    created: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        created.append(coro.__qualname__)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    try:
        yield created
    finally:
        loop.set_task_factory(None)


def _budget(lookups: str = "300/minute") -> Any:
    limiter = RateLimiter(
        RateLimits(citizen=CitizenLimits(lookups=lookups)),
        Windows(None),
        key_secret=b"k" * 32,
        metrics=Metrics(),
    )
    return limiter.lookup_budget(Principal(PrincipalKind.CITIZEN, CODE))


async def _each(waits: list[Awaitable[Fetched[str]]]) -> list[Any]:
    """Await each shared lookup the way a field does (shielded), keeping errors as results."""
    results: list[Any] = []
    for wait in waits:
        try:
            results.append(await asyncio.shield(wait))
        except Exception as exc:
            results.append(exc)
    return results


async def test_each_distinct_lookup_is_one_task_however_many_fields_ask() -> None:
    """The DataLoader this replaces cost three tasks a lookup (its dispatch, its gather's task,
    the budget's spend); now it is one, the budget's batch one more for the whole step."""
    agencies = [_Agency(f"agency-{i}") for i in range(5)]
    loaders = RequestLoaders(budget=_budget())
    with _counting_tasks() as created:
        waits = [loaders.start(a.fetch, CODE) for a in agencies for _ in range(3)]
        results = await _each(waits)
    ours = sorted(name for name in created if not name.startswith("MemoryStorage"))  # `limits`
    assert ours == ["LookupBudget._flush"] + ["RequestLoaders._lookup"] * 5
    assert all(len(a.calls) == 1 for a in agencies)
    assert [r.value for r in results] == [f"agency-{i}:{CODE}" for i in range(5) for _ in "abc"]
    assert loaders.outcomes == {(a.fetch, (CODE,)): None for a in agencies}
    assert [s.agency for s in loaders.answered_sources() or []] == [a.agency_id for a in agencies]


async def test_a_list_of_parts_costs_no_task_beyond_its_lookups() -> None:
    agencies = [_Agency(f"biller-{i}") for i in range(6)]
    loaders = RequestLoaders()
    with _counting_tasks() as created:
        parts = [
            SourcePart(a.agency_id, loaders.start(a.fetch, CODE), lambda v: (v, v))
            for a in agencies
        ]
        gathered = await gather_parts(parts)
    assert created == ["RequestLoaders._lookup"] * 6
    assert len(gathered.items) == 12 and gathered.complete


async def test_a_cancelled_field_does_not_cancel_the_lookup_it_shares() -> None:
    agency = _Agency("post")
    agency.gate = asyncio.Event()
    loaders = RequestLoaders()
    first = asyncio.ensure_future(loaders.load(agency.fetch, CODE))
    second = asyncio.ensure_future(loaders.load(agency.fetch, CODE))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    agency.gate.set()
    assert (await second).value == f"post:{CODE}"
    assert first.cancelled() and len(agency.calls) == 1


async def test_each_lookup_fails_alone_and_the_answer_is_then_partial() -> None:
    agency = _Agency("post", failing=frozenset({"bad"}))
    loaders = RequestLoaders()
    good, bad = loaders.start(agency.fetch, CODE), loaders.start(agency.fetch, "bad")
    results = await _each([good, bad, loaders.start(agency.fetch, "bad")])
    assert results[0].value == f"post:{CODE}"
    assert isinstance(results[1], AgencyUnavailable) and results[2] is results[1]
    assert agency.calls == [(CODE,), ("bad",)]
    assert loaders.outcomes[(agency.fetch, ("bad",))] is results[1]
    assert loaders.answered_sources() is None


async def test_every_call_gets_the_requests_deadline_and_its_arguments() -> None:
    agency = _Agency("shahkar")
    deadline = object()
    loaders = RequestLoaders(deadline=deadline)  # type: ignore[arg-type]
    await loaders.load(agency.fetch, CODE, "09121234567")
    assert agency.calls == [(CODE, "09121234567")] and agency.deadlines == [deadline]


async def test_past_the_cap_only_the_new_lookups_fail() -> None:
    agency = _Agency("post")
    loaders = RequestLoaders(max_lookups=2)
    parts = [
        SourcePart(code, loaders.start(agency.fetch, code), lambda v: [v])
        for code in ("a", "b", "c", "a")
    ]
    gathered = await gather_parts(parts)
    states = [(s.agency, s.state, type(s.error)) for s in gathered.sources]
    assert states == [
        ("a", SourceState.OK, type(None)),
        ("b", SourceState.OK, type(None)),
        ("c", SourceState.UNAVAILABLE, QueryTooComplex),
        ("a", SourceState.OK, type(None)),
    ]
    assert len(agency.calls) == 2
    assert loaders.answered_sources() is None  # a part was refused: the answer is partial


async def test_a_lookup_over_the_budget_fails_alone_and_asks_no_agency() -> None:
    agencies = [_Agency(f"agency-{i}") for i in range(4)]
    loaders = RequestLoaders(budget=_budget("3/minute"))
    results = await _each([loaders.start(a.fetch, CODE) for a in agencies])
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert len(refused) == 1 and sum(len(a.calls) for a in agencies) == 3
    assert len(loaders.outcomes) == 3  # the audit lists the agencies asked, not the refused
    assert loaders.answered_sources() is None  # yet the answer is partial, never kept


async def test_a_fault_of_ours_in_one_part_costs_only_that_part(
    caplog: pytest.LogCaptureFixture,
) -> None:
    agency = _Agency("tax")
    loaders = RequestLoaders()

    def broken(value: str) -> list[str]:
        raise KeyError(value)

    keep: Callable[[str], list[str]] = lambda v: [v]  # noqa: E731
    gathered = await gather_parts(
        [
            SourcePart("tax", loaders.start(agency.fetch, CODE), broken),
            SourcePart("post", loaders.start(agency.fetch, "x"), keep),
        ]
    )
    assert [s.state for s in gathered.sources] == [SourceState.UNAVAILABLE, SourceState.OK]
    assert isinstance(gathered.sources[0], PartStatus)
    assert [i.items for i in gathered.items] == ["tax:x"]
    assert "tax part of an aggregated list failed" in caplog.text


class _Absent:
    """An agency operation that holds no record, said with or without the answer's source."""

    def __init__(self, agency_id: str, *, with_source: bool = True) -> None:
        self.agency_id = agency_id
        self.with_source = with_source

    async def fetch(self, *args: Any, deadline: Any = None) -> Fetched[str]:
        source = Source(self.agency_id, AT, fresh_until=AT + dt.timedelta(seconds=60))
        raise AgencyNotFound(self.agency_id, "none", source=source if self.with_source else None)


async def test_no_record_is_an_answer_the_response_cache_may_keep() -> None:
    loaders = RequestLoaders()
    present, absent = _Agency("post"), _Absent("judiciary")
    await _each([loaders.start(present.fetch, CODE), loaders.start(absent.fetch, CODE)])
    sources = loaders.answered_sources()
    assert sources is not None and [s.agency for s in sources] == ["post", "judiciary"]
    assert isinstance(loaders.outcomes[(absent.fetch, (CODE,))], AgencyNotFound)  # for the audit


async def test_no_record_of_unknown_lifetime_keeps_the_answer_partial() -> None:
    loaders = RequestLoaders()
    await _each([loaders.start(_Absent("tax", with_source=False).fetch, CODE)])
    assert loaders.answered_sources() is None


async def test_a_part_with_no_record_or_nothing_in_it_is_empty_with_its_source() -> None:
    loaders = RequestLoaders()
    empty_list = _Agency("water")
    empty_list.fetch = _answering([])  # type: ignore[method-assign]
    gathered = await gather_parts(
        [
            SourcePart("judiciary", loaders.start(_Absent("judiciary").fetch, CODE), list),
            SourcePart("water", loaders.start(empty_list.fetch, CODE), list),
            SourcePart("post", loaders.start(_Agency("post").fetch, CODE), lambda v: [v]),
        ]
    )
    assert [(s.agency, s.state) for s in gathered.sources] == [
        ("judiciary", SourceState.EMPTY),
        ("water", SourceState.EMPTY),
        ("post", SourceState.OK),
    ]
    assert all(s.source is not None and s.error is None for s in gathered.sources)
    assert gathered.complete is True


async def test_a_stale_part_carries_why_it_is_stale() -> None:
    failure = AgencyUnavailable("tax", "down")
    stale = Source("tax", AT, stale=True, failure=failure)

    async def loaded() -> Fetched[str]:
        return Fetched("record", stale)

    status, value = await settle("tax", loaded())
    assert (status.state, status.error, status.source, value) == (
        SourceState.STALE, failure, stale, "record",
    )  # fmt: skip


def test_an_agency_asked_several_things_is_as_bad_as_its_worst_answer() -> None:
    old, new = Source("traffic-police", AT), Source("traffic-police", AT + dt.timedelta(1))
    empty = PartStatus("traffic-police", SourceState.EMPTY, old)
    ok = PartStatus("traffic-police", SourceState.OK, new)
    failed = PartStatus(
        "traffic-police", SourceState.UNAVAILABLE, error=AgencyUnavailable("traffic-police", "x")
    )
    assert combine("traffic-police", [empty, empty]) == empty
    assert combine("traffic-police", [empty, ok]).state is SourceState.OK
    assert combine("traffic-police", [ok, empty, failed]) == failed
    both = combine("traffic-police", [ok, PartStatus("traffic-police", SourceState.OK, old)])
    assert both.source is old  # the oldest answer says how old the agency's part is
    assert (both.fetched_at, both.name_fa, both.name_en) == (AT, "پلیس راهور", "Traffic Police")


def _answering(value: Any) -> Callable[..., Awaitable[Fetched[Any]]]:
    async def fetch(*args: Any, deadline: Any = None) -> Fetched[Any]:
        return Fetched(value, Source("water", AT))

    return fetch
