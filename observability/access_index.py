"""Who read a citizen's data: the audit records a citizen may see, indexed by their keyed hash.

Only reads by service clients are indexed (`listed`): a citizen's own reads, and anything done
by another citizen's token, are not. Entries are newest first and paginated with an opaque
cursor that stays valid while new entries arrive.

- With Redis (`REDIS_URL` and the audit stream on): one stream per citizen,
  `<namespace>:audit-access:<keyed hash>`, filled by the Redis audit sink in the same pipeline as
  the instance's stream, so every instance sees every instance's reads. The cursor is the stream
  entry id; a page is `XREVRANGE key (<cursor> - COUNT first+1`.
- Without Redis (the embedded default): an in-memory index, built at start from the audit file
  and fed by the writer like a sink. It knows only this instance's file.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import RedisError

from domain.errors import AgencyUnavailable, InvalidInput

__all__ = [
    "AccessIndex",
    "AccessItem",
    "AccessPage",
    "MemoryAccessIndex",
    "RedisAccessIndex",
    "listed",
]

_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_INDEX_COMPONENT = "audit-log"  # the `agency` an unreachable index is reported as


def listed(record: Mapping[str, Any]) -> bool:
    """Whether a citizen sees this record in their access log: a service read their data."""
    actor = record.get("actor") or {}
    return actor.get("kind") == "service" and bool(record.get("subject"))


def _entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the citizen is shown of a record (no request id, chain or hashes)."""
    return {
        "client": record["actor"]["id"],
        "at": record["at"],
        "purpose": record.get("purpose"),
        "agencies": list(record.get("agencies") or ()),
        "fields": list(record.get("fields") or ()),
        "outcome": record.get("outcome"),
    }


@dataclass(frozen=True, slots=True)
class AccessItem:
    """One access to the citizen's data by a service."""

    client: str
    at: dt.datetime
    purpose: str | None
    agencies: list[str]
    fields: list[str]
    outcome: str

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> AccessItem:
        return cls(
            client=str(entry["client"]),
            at=dt.datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00")),
            purpose=entry.get("purpose"),
            agencies=list(entry.get("agencies") or ()),
            fields=list(entry.get("fields") or ()),
            outcome=str(entry.get("outcome")),
        )


@dataclass(frozen=True, slots=True)
class AccessPage:
    items: list[AccessItem]
    end_cursor: str | None
    has_next_page: bool


def _cursor(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def _uncursor(kind: str, cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    prefix, _, value = text.partition(":")
    if prefix != kind or not value:
        raise InvalidInput("after", "`after` must be an `endCursor` this server returned")
    return value


class AccessIndex(Protocol):
    async def page(self, subject: str, first: int, after: str | None) -> AccessPage: ...


class MemoryAccessIndex:
    """In-memory index (the embedded default); also the writer's `index` sink."""

    name = "index"

    def __init__(self, max_per_subject: int = 1000) -> None:
        self._max = max_per_subject
        self._entries: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._next: dict[str, int] = {}

    def add(self, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            if not listed(record):
                continue
            subject = str(record["subject"])
            n = self._next.get(subject, 0)
            self._next[subject] = n + 1
            entries = self._entries.setdefault(subject, [])
            entries.append((n, _entry(record)))
            if len(entries) > 2 * self._max:  # trim in bulk: amortised O(1) per record
                del entries[: len(entries) - self._max]

    async def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.add(records)

    async def close(self) -> None:
        return None

    async def page(self, subject: str, first: int, after: str | None) -> AccessPage:
        entries = self._entries.get(subject, [])[-self._max :]
        below = int(_uncursor("m", after)) if after is not None else None
        newest_first = [e for e in reversed(entries) if below is None or e[0] < below]
        chosen = newest_first[:first]
        end = _cursor("m", str(chosen[-1][0])) if chosen else None
        return AccessPage(
            [AccessItem.of(e) for _, e in chosen], end, len(newest_first) > len(chosen)
        )


class RedisAccessIndex:
    """Per-citizen Redis streams, written by the Redis audit sink's pipeline."""

    def __init__(self, client: Any, *, namespace: str, max_per_subject: int = 1000) -> None:
        self._client = client
        self._namespace = namespace
        self._max = max_per_subject

    def key(self, subject: str) -> str:
        return f"{self._namespace}:audit-access:{subject}"

    def add_to(self, pipe: Any, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            if listed(record):
                entry = json.dumps(_entry(record), ensure_ascii=False, separators=(",", ":"))
                pipe.xadd(
                    self.key(str(record["subject"])),
                    {"entry": entry},
                    maxlen=self._max,
                    approximate=True,
                )

    async def page(self, subject: str, first: int, after: str | None) -> AccessPage:
        top = "+"
        if after is not None:
            last_id = _uncursor("r", after)
            if not _STREAM_ID.match(last_id):
                raise InvalidInput("after", "`after` must be an `endCursor` this server returned")
            top = f"({last_id}"
        try:
            rows = await self._client.xrevrange(self.key(subject), top, "-", count=first + 1)
        except (RedisError, OSError, TimeoutError) as exc:
            raise AgencyUnavailable(
                _INDEX_COMPONENT, "the access log cannot be read right now; try again later"
            ) from exc
        chosen = rows[:first]
        items = [AccessItem.of(json.loads(fields[b"entry"])) for _, fields in chosen]
        end = _cursor("r", _text(chosen[-1][0])) if chosen else None
        return AccessPage(items, end, len(rows) > first)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
