"""The health store the fleet shares: Redis, under the cache namespace.

    <ns>:health:{<agency>}:m:<minute>        hash  tally fields (ok, failed, maint, f:<kind>,
                                                   l:<bucket>), HINCRBY        ~2 h (TTL)
    <ns>:health:{<agency>}:h:<hour>          hash  share sums (mx gx mi gi mm),
                                                   HINCRBYFLOAT               ~8 days (TTL)
    <ns>:health:{<agency>}:rolled:<minute>   string  set NX once the minute is in its hour
                                                   (exactly once for the fleet) ~3 h (TTL)
    <ns>:health:{<agency>}:tick              hash  calls since the last tick (taken and deleted
                                                   in one MULTI by the evaluator; `back` set,
                                                   not added)                 10 min (TTL)
    <ns>:health:{<agency>}:state             string  the agency's record, JSON     30 days (TTL)
    <ns>:health:{<agency>}:incidents         list  closed incidents, JSON, newest first,
                                                   LTRIM to `max_incidents`     30 days (TTL)

Every key of an agency carries the agency as a hash tag, so on Redis Cluster they share a slot
and its atomic steps work: take the tick (MULTI); roll minutes up (a script: a minute is marked
rolled and added to its hour in one step, or neither); save the record with the incident it
closed (a script: only over the record it was judged from, never over a newer one). A flush
is one pipeline of increments (one round trip, whatever the number of samples). Every key
expires: nothing grows without bound. Errors are raised (`FallbackHealthStore` handles them).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from cache.redis import RedisCache
from observability.agency_health.model import Incident
from observability.agency_health.store import (
    HOUR_KEEP_S,
    MINUTE_KEEP_S,
    RECORD_KEEP_S,
    ROLL_MARK_KEEP_S,
    TICK_KEEP_S,
    UNCHECKED,
    AgencyRecord,
    Unchecked,
    decode_incident,
    encode_incident,
)
from observability.agency_health.tally import BACK_AT_FIELD, Shares, Tally

__all__ = ["RedisHealthStore"]

log = logging.getLogger("panjereh.health")

_ROLL_UP = """
-- KEYS: per minute, its rolled mark then its hour; ARGV: the mark's and the hour's TTL, then
-- per minute its number of share fields and those fields' names and values
local mark_ttl, hour_ttl = ARGV[1], ARGV[2]
local at = 3
local rolled = {}
for i = 1, #KEYS, 2 do
  local n = tonumber(ARGV[at])
  local claimed = redis.call('SET', KEYS[i], '1', 'NX', 'EX', mark_ttl)
  if claimed then
    for f = 1, n do
      redis.call('HINCRBYFLOAT', KEYS[i + 1], ARGV[at + 2 * f - 1], ARGV[at + 2 * f])
    end
    redis.call('EXPIRE', KEYS[i + 1], hour_ttl)
  end
  rolled[#rolled + 1] = claimed and 1 or 0
  at = at + 1 + 2 * n
end
return rolled
"""

_SAVE = """
-- KEYS: the record, the closed incidents; ARGV: the record, its TTL, what it replaces ('any',
-- 'none' or the `at` of the record it was judged from), the closed incident ('' if none), how
-- many closed incidents are kept
local replacing = ARGV[3]
if replacing ~= 'any' then
  local stored = redis.call('GET', KEYS[1])
  if stored then
    if replacing == 'none' then return 0 end
    local ok, body = pcall(cjson.decode, stored)
    local at = ok and type(body) == 'table' and tonumber(body['at'])
    if at and at > tonumber(replacing) then return 0 end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if ARGV[4] ~= '' then
  redis.call('LPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
return 1
"""


class RedisHealthStore:
    """`HealthStore` over a `redis.asyncio` client (plain, Sentinel or Cluster)."""

    name = "redis"

    def __init__(
        self,
        client: Any,
        *,
        namespace: str = "panjereh",
        max_incidents: int = 200,
        owner: RedisCache | None = None,
    ) -> None:
        """`owner`, when given, is closed with the store (the client is its)."""
        self._client = client
        self._prefix = f"{namespace}:health"
        self._max_incidents = max_incidents
        self._owner = owner

    @classmethod
    def from_url(
        cls, url: str, *, namespace: str, max_incidents: int = 200, socket_timeout: float = 0.5
    ) -> RedisHealthStore:
        """A store on its own connections to `url` (any URL `RedisCache.from_url` accepts)."""
        owner = RedisCache.from_url(url, socket_timeout=socket_timeout)
        return cls(owner.client, namespace=namespace, max_incidents=max_incidents, owner=owner)

    def _key(self, agency: str, *parts: str | int) -> str:
        return ":".join([f"{self._prefix}:{{{agency}}}", *map(str, parts)])

    async def add(
        self, minutes: Mapping[tuple[str, int], Tally], ticks: Mapping[str, Tally]
    ) -> None:
        pipe = self._client.pipeline(transaction=False)
        for (agency, minute), tally in minutes.items():
            _increments(pipe, self._key(agency, "m", minute), tally.fields(), MINUTE_KEEP_S)
        for agency, tally in ticks.items():
            key = self._key(agency, "tick")
            if tally.back_at is not None:
                pipe.hset(key, BACK_AT_FIELD, repr(tally.back_at))
            _increments(pipe, key, tally.fields(), TICK_KEEP_S)
        await pipe.execute()

    async def minutes(self, agency: str, indices: Sequence[int]) -> dict[int, Tally]:
        found = await self._hashes([self._key(agency, "m", m) for m in indices])
        return {m: Tally.from_fields(raw) for m, raw in zip(indices, found, strict=True) if raw}

    async def hours(self, agency: str, indices: Sequence[int]) -> dict[int, Shares]:
        found = await self._hashes([self._key(agency, "h", h) for h in indices])
        return {h: Shares.from_fields(raw) for h, raw in zip(indices, found, strict=True) if raw}

    async def roll_up(self, agency: str, minutes: Mapping[int, Shares]) -> set[int]:
        if not minutes:
            return set()
        order = list(minutes)
        keys: list[str] = []
        args: list[str | int | float] = [ROLL_MARK_KEEP_S, HOUR_KEEP_S]
        for minute in order:
            keys += [self._key(agency, "rolled", minute), self._key(agency, "h", minute // 60)]
            fields = minutes[minute].fields()
            args.append(len(fields))
            for name, value in fields.items():
                args += [name, repr(value)]
        rolled = await self._client.eval(_ROLL_UP, len(keys), *keys, *args)
        return {m for m, won in zip(order, rolled, strict=True) if int(won)}

    async def take_tick(self, agency: str) -> Tally:
        key = self._key(agency, "tick")
        pipe = self._client.pipeline(transaction=True)
        pipe.hgetall(key)
        pipe.delete(key)
        raw, _ = await pipe.execute()
        return Tally.from_fields(raw or {})

    async def records(self, agencies: Sequence[str]) -> dict[str, AgencyRecord]:
        pipe = self._client.pipeline(transaction=False)
        for agency in agencies:
            pipe.get(self._key(agency, "state"))
        found = {}
        for agency, raw in zip(agencies, await pipe.execute(), strict=True):
            if raw is None:
                continue
            try:
                found[agency] = AgencyRecord.from_json(raw)
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable health record of %s in Redis; ignored", agency)
        return found

    async def save(
        self,
        record: AgencyRecord,
        closed: Incident | None = None,
        *,
        replacing: float | Unchecked | None = UNCHECKED,
    ) -> bool:
        agency = record.agency
        if replacing is UNCHECKED:
            expected = "any"
        else:
            expected = "none" if replacing is None else repr(replacing)
        saved = await self._client.eval(
            _SAVE,
            2,
            self._key(agency, "state"),
            self._key(agency, "incidents"),
            record.to_json(),
            int(RECORD_KEEP_S),
            expected,
            b"" if closed is None else encode_incident(closed),
            self._max_incidents,
        )
        return bool(int(saved))

    async def closed_incidents(self, agency: str, first: int) -> list[Incident]:
        raws = await self._client.lrange(self._key(agency, "incidents"), 0, first - 1)
        found = []
        for raw in raws:
            try:
                found.append(decode_incident(raw))
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable incident of %s in Redis; ignored", agency)
        return found

    async def close(self) -> None:
        if self._owner is not None:
            await self._owner.close()

    async def _hashes(self, keys: Sequence[str]) -> list[dict[bytes, bytes]]:
        if not keys:
            return []
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        return list(await pipe.execute())


def _increments(pipe: Any, key: str, fields: Mapping[str, int], keep_s: float) -> None:
    if not fields:
        return
    for name, n in fields.items():
        pipe.hincrby(key, name, n)
    pipe.expire(key, math.ceil(keep_s))
