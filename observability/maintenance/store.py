"""Where ops' one-off maintenance windows live: this process's memory, or a Redis hash that
every instance reads.

    MemoryWindowStore   the embedded default: one instance, windows gone on restart
    RedisWindowStore    `<namespace>:maintenance:windows`, one field per window
                        (`<agency>|<start, unix s>` → JSON); HSETNX, HDEL, HGETALL

A window is named by its agency and its start (whole seconds), so adding the same window twice
is refused by the store itself, and removing one needs no id of the store's making. The store
checks nothing else: validation is the calendar's (`observability.maintenance.calendar`).
"""

from __future__ import annotations

import json
import logging
import math
from typing import Protocol

from cache.redis import RedisCache
from observability.agency_health.model import MaintenanceWindow

__all__ = ["MemoryWindowStore", "RedisWindowStore", "WindowStore"]

log = logging.getLogger(__name__)


class WindowStore(Protocol):
    """One-off windows by (agency, start)."""

    name: str
    shared: bool
    """Whether other instances write here too (then the calendar re-reads it on a cadence)."""

    async def put(self, window: MaintenanceWindow) -> bool:
        """Store `window`; False (nothing changed) when one with its agency and start exists."""
        ...

    async def delete(self, agency: str, starts_at: float) -> MaintenanceWindow | None:
        """Remove and return the window of `agency` starting at `starts_at`, if there is one."""
        ...

    async def all(self) -> list[MaintenanceWindow]:
        """Every stored window, in no particular order."""
        ...

    async def close(self) -> None: ...


def _field(agency: str, starts_at: float) -> str:
    return f"{agency}|{math.floor(starts_at)}"


class MemoryWindowStore:
    """Windows in a dict: this instance alone sees them."""

    name = "memory"
    shared = False

    def __init__(self) -> None:
        self._windows: dict[str, MaintenanceWindow] = {}

    async def put(self, window: MaintenanceWindow) -> bool:
        return self._windows.setdefault(_field(window.agency, window.starts_at), window) is window

    async def delete(self, agency: str, starts_at: float) -> MaintenanceWindow | None:
        return self._windows.pop(_field(agency, starts_at), None)

    async def all(self) -> list[MaintenanceWindow]:
        return list(self._windows.values())

    async def close(self) -> None:
        return None


class RedisWindowStore:
    """Windows in one Redis hash, shared by every instance on that Redis."""

    name = "redis"
    shared = True

    def __init__(self, redis: RedisCache, key: str) -> None:
        self._redis = redis
        self._client = redis.client
        self.key = key

    @classmethod
    def from_url(cls, url: str, *, namespace: str, socket_timeout: float = 1.0) -> RedisWindowStore:
        """A store on its own connections to `url` (any URL `RedisCache.from_url` takes)."""
        redis = RedisCache.from_url(url, socket_timeout=socket_timeout)
        return cls(redis, f"{namespace}:maintenance:windows")

    async def put(self, window: MaintenanceWindow) -> bool:
        field = _field(window.agency, window.starts_at)
        return bool(await self._client.hsetnx(self.key, field, _encode(window)))

    async def delete(self, agency: str, starts_at: float) -> MaintenanceWindow | None:
        field = _field(agency, starts_at)
        raw = await self._client.hget(self.key, field)
        if raw is None or not await self._client.hdel(self.key, field):
            return None  # absent, or another instance removed it first
        return _decode(raw)

    async def all(self) -> list[MaintenanceWindow]:
        found = []
        for raw in (await self._client.hgetall(self.key)).values():
            window = _decode(raw)
            if window is not None:
                found.append(window)
        return found

    async def close(self) -> None:
        await self._redis.close()


def _encode(window: MaintenanceWindow) -> bytes:
    return json.dumps(
        {
            "agency": window.agency,
            "starts_at": window.starts_at,
            "ends_at": window.ends_at,
            "note": window.note,
        },
        ensure_ascii=False,
    ).encode()


def _decode(raw: bytes) -> MaintenanceWindow | None:
    try:
        data = json.loads(raw)
        return MaintenanceWindow(
            agency=str(data["agency"]),
            starts_at=float(data["starts_at"]),
            ends_at=float(data["ends_at"]),
            origin="ops",
            note=str(data.get("note", "")),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable maintenance window in Redis; ignored")
        return None
