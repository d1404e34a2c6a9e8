"""Bounded in-memory LRU cache: the embedded default, and the fallback when Redis is away.

Bounded in bytes, not only in entries: what a citizen's answers weigh varies by two orders of
magnitude, so a count says little about memory. Each entry is charged its key, its value and a
fixed overhead for the bookkeeping around them (`ENTRY_OVERHEAD`). A `bytes` value's size is its
length, unless it carries more than its bytes and says so in a `weight` attribute (the store's
envelope holding the decoded answer too: `cache.store`); any other value must come with its size
stated by the caller (`set(..., size=n)`), since measuring a Python object graph is costly and
never exact.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from observability.metrics import Metrics

__all__ = ["DEFAULT_MAX_BYTES", "ENTRY_OVERHEAD", "MemoryCache"]

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
ENTRY_OVERHEAD = 160
"""Bytes charged per entry besides key and value: the OrderedDict node, the tuple, the float and
the str/bytes headers (measured with sys.getsizeof on CPython 3.11, rounded up)."""


class MemoryCache:
    """An LRU of at most `max_bytes` (and `max_entries`) items, each expiring after its own TTL.

    Expired items are dropped lazily when read, and the least recently used ones are evicted when
    a budget is exceeded, so memory stays bounded without a sweeper task. With `metrics`, its
    size is exported as `panjereh_cache_memory_bytes` / `_entries`.
    """

    name = "memory"

    def __init__(
        self,
        max_entries: int = 1_000_000,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        metrics: Metrics | None = None,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be at least 1")
        self._max = max_entries
        self._max_bytes = max_bytes
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, Any, int]] = OrderedDict()
        self._bytes = 0
        self._metrics = metrics
        self._publish()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size_bytes(self) -> int:
        """What the entries are charged, in bytes (see `ENTRY_OVERHEAD`)."""
        return self._bytes

    async def get(self, key: str) -> Any:
        """The value (bytes, or the object stored with its size), or None."""
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            self._drop(key)
            self._publish()
            return None
        self._items.move_to_end(key)
        return item[1]

    async def set(self, key: str, value: Any, ttl: float, *, size: int | None = None) -> None:
        """Store `value` for `ttl` s; a value that is not bytes needs its `size` in bytes, bytes
        are charged their `weight` when they state one, else their length."""
        self._drop(key)
        if ttl > 0:
            if size is None:
                if not isinstance(value, bytes | bytearray | memoryview):
                    raise TypeError("a value that is not bytes needs its size")
                size = getattr(value, "weight", None) or len(value)
            charged = len(key) + size + ENTRY_OVERHEAD
            if charged <= self._max_bytes:  # larger than the whole budget: never kept
                self._items[key] = (self._clock() + ttl, value, charged)
                self._bytes += charged
                self._evict()
        self._publish()

    async def add(self, key: str, value: Any, ttl: float, *, size: int | None = None) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl, size=size)
        return True

    async def delete(self, key: str) -> None:
        self._drop(key)
        self._publish()

    async def delete_if(self, key: str, value: Any) -> bool:
        if await self.get(key) != value:
            return False
        self._drop(key)
        self._publish()
        return True

    async def close(self) -> None:
        self._items.clear()
        self._bytes = 0
        self._publish()

    def _drop(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._bytes -= item[2]

    def _evict(self) -> None:
        while self._bytes > self._max_bytes or len(self._items) > self._max:
            _, (_, _, charged) = self._items.popitem(last=False)
            self._bytes -= charged

    def _publish(self) -> None:
        if self._metrics is not None:
            self._metrics.cache_memory_bytes.set(self._bytes)
            self._metrics.cache_memory_entries.set(len(self._items))
