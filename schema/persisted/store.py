"""Where APQ keeps registered documents: a small LRU in this process over the shared cache.

    lookup(hash) ─▶ local LRU ─hit─▶ document
                        │ miss
                        ▼
                   shared backend (Redis when configured) ─hit─▶ copy into the LRU ─▶ document
    register(hash, document) ─▶ local LRU, and shared backend unless the LRU already had it

A document never changes under its hash, so the local copies need no invalidation; they keep
the hot hash-only path off the network. The LRU is bounded in entries and each document in bytes
(`max_query_bytes`), so registrations cannot grow memory without limit. Keys are
`<namespace>:apq:<sha256>`: a hash of a public document, no personal data. A failing shared
backend is a miss (the client then sends the full query once more), never an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from cache.backend import CacheBackend
from cache.memory import MemoryCache

__all__ = ["ApqStore"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class ApqStore:
    """Registered documents by SHA-256, local first, shared across instances when configured."""

    def __init__(
        self,
        *,
        local: MemoryCache,
        shared: CacheBackend | None,
        namespace: str,
        ttl_s: float,
        max_bytes: int,
        timeout_s: float = 0.25,
    ) -> None:
        self._local = local
        self._shared = shared
        self._prefix = f"{namespace}:apq:"
        self._ttl = ttl_s
        self._max_bytes = max_bytes
        self._timeout = timeout_s

    def key(self, sha256: str) -> str:
        return self._prefix + sha256

    def fits(self, document: str) -> bool:
        """Whether a document is small enough to be registered."""
        return len(document.encode("utf-8")) <= self._max_bytes

    async def lookup(self, sha256: str) -> str | None:
        """The registered document for a hash, or None."""
        key = self.key(sha256)
        raw = await self._local.get(key)
        if raw is None and self._shared is not None:
            raw = await self._guard("get", self._shared.get(key), None)
            if raw is not None and len(raw) <= self._max_bytes:
                await self._local.set(key, raw, self._ttl)
        if raw is None or len(raw) > self._max_bytes:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None

    async def register(self, sha256: str, document: str) -> bool:
        """Keep `document` under its hash (the caller checked the hash); False when too big."""
        if not self.fits(document):
            return False
        key, raw = self.key(sha256), document.encode("utf-8")
        known = await self._local.get(key) == raw
        await self._local.set(key, raw, self._ttl)
        if not known and self._shared is not None:
            await self._guard("set", self._shared.set(key, raw, self._ttl), None)
        return True

    async def _guard(self, op: str, call: Awaitable[T], failed: T) -> T:
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except Exception as exc:  # a shared-cache fault is a miss, never the client's error
            log.warning("persisted-query %s failed: %s", op, type(exc).__name__)
            return failed
