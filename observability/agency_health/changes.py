"""State changes fanned out to any number of subscribers, none of which can hold up the others.

    book ──publish(change)──▶ ChangeFeed ──▶ Subscription (bounded) ──▶ `async for` a subscriber
                                         ──▶ Subscription (bounded) ──▶ another one …

`publish` is synchronous and never waits: each subscription keeps at most `max_pending`
changes, and a subscriber that falls behind loses its oldest ones (it will read the newest
state, which is what matters to a status view). A subscription is registered when it is made,
so nothing published after `subscribe()` returns is missed, and it is dropped on `aclose()` or
when its owner lets go of it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque

from observability.agency_health.model import StateChange

__all__ = ["ChangeFeed", "Subscription"]


class Subscription:
    """An async iterator over the changes published since it was made."""

    def __init__(self, feed: ChangeFeed, max_pending: int) -> None:
        self._feed = feed
        self._pending: deque[StateChange] = deque(maxlen=max_pending)
        self._ready = asyncio.Event()
        self._closed = False
        self.dropped = 0
        """Changes lost because this subscriber fell `max_pending` behind."""

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> StateChange:
        while not self._pending:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._pending.popleft()

    async def aclose(self) -> None:
        """Stop: a pending `__anext__` ends, and the feed forgets this subscription."""
        self._closed = True
        self._pending.clear()
        self._ready.set()
        self._feed._forget(self)

    def _offer(self, change: StateChange) -> None:
        if self._closed:
            return
        if len(self._pending) == self._pending.maxlen:
            self.dropped += 1  # the deque drops the oldest
        self._pending.append(change)
        self._ready.set()


class ChangeFeed:
    """Fan-out of `StateChange`s to subscriptions."""

    def __init__(self, max_pending: int = 256) -> None:
        self._max_pending = max_pending
        self._subscriptions: weakref.WeakSet[Subscription] = weakref.WeakSet()

    def subscribe(self) -> Subscription:
        subscription = Subscription(self, self._max_pending)
        self._subscriptions.add(subscription)
        return subscription

    def publish(self, change: StateChange) -> None:
        for subscription in list(self._subscriptions):
            subscription._offer(change)

    async def close(self) -> None:
        """End every subscription (the book is closing)."""
        for subscription in list(self._subscriptions):
            await subscription.aclose()

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def _forget(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
