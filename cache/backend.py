"""The one interface every cache backend implements.

Backends only store bytes under string keys with a time to live. Namespacing, key hashing,
serialisation, freshness and metrics are done once, above them, in `cache.store.CacheStore`.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["CacheBackend"]


class CacheBackend(Protocol):
    """Bytes by key, each with a time to live in seconds."""

    name: str

    async def get(self, key: str) -> bytes | None:
        """The stored bytes, or None when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store `value`, replacing any previous one, for `ttl` seconds."""
        ...

    async def add(self, key: str, value: bytes, ttl: float) -> bool:
        """Store `value` only if `key` is absent; True when stored (a lease was taken)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove `key` if present."""
        ...

    async def delete_if(self, key: str, value: bytes) -> bool:
        """Remove `key` only while it still holds `value` (releasing one's own lease)."""
        ...

    async def close(self) -> None:
        """Release connections; the backend is not used afterwards."""
        ...
