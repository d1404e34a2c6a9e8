"""The fallback health store: memory answers while the shared store fails, the shared store is
tried again after `retry_after_s`, and the newest record wins when it is back.

Real: `FallbackHealthStore` and two `MemoryHealthStore`s, one standing for Redis; `Outage`
makes that one fail on demand (as a dead Redis would), the clocks are moved by the test.
"""

from __future__ import annotations

from typing import Any

from observability.agency_health.fallback_store import FallbackHealthStore
from observability.agency_health.memory_store import MemoryHealthStore
from observability.agency_health.model import AgencyState
from observability.agency_health.store import AgencyRecord
from observability.agency_health.tally import Tally
from tests.support.health import T0
from tests.support.scripted_transport import Clock

MINUTE = int(T0 // 60)


class Outage:
    """A memory store that raises ConnectionError while `down`."""

    def __init__(self, clock: Clock) -> None:
        self.store = MemoryHealthStore(clock=clock)
        self.name = "shared"
        self.down = False
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.down:
                raise ConnectionError("unreachable")
            return await method(*args, **kwargs)

        return call


def _record(state: AgencyState, at: float) -> AgencyRecord:
    return AgencyRecord("water", state, at, at, state is AgencyState.UP)


async def test_memory_answers_while_the_shared_store_is_down_and_it_is_tried_again() -> None:
    wall, monotonic = Clock(T0), Clock()
    shared = Outage(wall)
    store = FallbackHealthStore(
        shared, MemoryHealthStore(clock=wall), retry_after_s=5.0, clock=monotonic
    )
    await store.add({("water", MINUTE): Tally(ok=1)}, {"water": Tally(ok=1)})
    await store.save(_record(AgencyState.UP, T0))
    shared.down = True
    await store.add({("water", MINUTE): Tally(failed=1)}, {})  # lost for the fleet, kept here
    assert store.degraded and store.name == "shared(degraded→memory)"
    calls = shared.calls
    minute = (await store.minutes("water", [MINUTE]))[MINUTE]
    assert (minute.ok, minute.failed) == (1, 1)  # this instance's own, from memory
    assert (await store.take_tick("water")).ok == 1
    await store.save(_record(AgencyState.DOWN, T0 + 15))
    assert shared.calls == calls  # not tried again within retry_after_s
    monotonic.advance(5.0)
    shared.down = False
    records = await store.records(["water"])
    assert not store.degraded
    assert records["water"].state is AgencyState.DOWN  # judged here meanwhile: newer
    await store.save(records["water"])
    assert (await shared.store.records(["water"]))["water"].state is AgencyState.DOWN


async def test_a_newer_shared_record_wins_and_is_kept_for_the_next_outage() -> None:
    wall, monotonic = Clock(T0), Clock()
    shared = Outage(wall)
    store = FallbackHealthStore(
        shared, MemoryHealthStore(clock=wall), retry_after_s=0.0, clock=monotonic
    )
    await store.save(_record(AgencyState.UP, T0))
    await shared.store.save(_record(AgencyState.DEGRADED, T0 + 15))  # another instance judged
    assert (await store.records(["water"]))["water"].state is AgencyState.DEGRADED
    shared.down = True
    assert (await store.records(["water"]))["water"].state is AgencyState.DEGRADED
