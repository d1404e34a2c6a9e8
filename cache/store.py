"""The typed cache above the byte backends.

Owns, once for every backend: key namespacing and keyed hashing (no national code ever appears in
a key), the entry envelope (when it was fetched, until when it is fresh, whether it is a negative
"not found" entry), optional AES-GCM encryption of payloads, timeouts on backend calls, leases
for cross-instance singleflight, and the hit/miss/stale metrics. A backend failure is a miss plus
a log line, never an error for the client.

Decoded entries stay objects in process. What `store` hands a backend is the encoded envelope
(header + payload, encrypted when a key is set) as a `bytes` subclass that also carries the
decoded entry, value included. An in-process backend (the memory cache, and the memory fallback
of Redis) keeps and returns that very object, so a hit is a dict lookup: no decryption, no JSON,
no pydantic validation. A shared backend (Redis) sends the bytes and returns plain bytes, which
are decoded as before. The in-process backend charges such an entry its `weight`: its bytes
plus an estimate of the decoded objects (`DECODED_WEIGHT` times the payload, `HELD_OVERHEAD`),
which weigh several times their JSON; charged only their bytes, a 64 MiB budget held some
six times that in memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cache.backend import CacheBackend
from observability.metrics import Metrics

__all__ = ["DECODED_WEIGHT", "HELD_OVERHEAD", "UNDECODED", "CacheEntry", "CacheStore"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# flags (1 byte), fetched_at (unix s), fresh_until (unix s); payload follows.
_HEADER = struct.Struct("!Bdd")
_NOT_FOUND = 0x01
_ENCRYPTED = 0x02
_NONCE_BYTES = 12


DECODED_WEIGHT = 8
"""Bytes a decoded answer takes in memory per byte of its JSON payload: frozen pydantic models
(instance dict, fields-set), their strings, dates and tuples. Measured with tracemalloc over the
sandbox's answers for cold citizens (about 26 KB of objects for 3.1 KB of JSON each, CPython
3.11, pydantic 2); the estimate errs high rather than low."""

HELD_OVERHEAD = 400
"""Bytes of the bookkeeping around a decoded entry besides its objects: the two `CacheEntry`
instances, the envelope's instance dict, the keyed-hash digest string."""

UNDECODED: Any = type("Undecoded", (), {"__repr__": lambda self: "UNDECODED"})()
"""`CacheEntry.value` of an entry read from bytes: its payload still has to be decoded."""


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One cached answer of an agency, with the times that decide how it may be served.

    `value` is the decoded answer when this process still holds it as an object (then `payload`
    may be empty), else `UNDECODED` and `payload` holds its JSON.
    """

    payload: bytes
    fetched_at: float
    fresh_until: float
    not_found: bool = False
    value: Any = UNDECODED

    def is_fresh(self, now: float) -> bool:
        return now < self.fresh_until


class CacheStore:
    """Namespaced, keyed-hash, optionally encrypted cache of agency answers over a backend."""

    def __init__(
        self,
        backend: CacheBackend,
        *,
        key_secret: bytes,
        metrics: Metrics,
        encryption_key: bytes | None = None,
        namespace: str = "panjereh",
        op_timeout: float = 0.25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self._secret = key_secret
        self._metrics = metrics
        self._aead = AESGCM(encryption_key) if encryption_key else None
        self._namespace = namespace
        self._timeout = op_timeout
        self.clock = clock

    def key_for(self, agency: str, kind: str, subject: str) -> str:
        """`namespace:agency:kind:<hmac>`: stable across instances sharing the secret, opaque."""
        digest = hmac.new(self._secret, subject.encode(), hashlib.sha256).hexdigest()[:40]
        return f"{self._namespace}:{agency}:{kind}:{digest}"

    async def ping(self) -> bool:
        """Whether the backend answers a read within the cache timeout."""
        return (
            await self._guard("ping", self.backend.get(f"{self._namespace}:ping"), False)
            is not False
        )

    async def lookup(self, agency: str, kind: str, subject: str) -> CacheEntry | None:
        """The cached entry, fresh or stale, or None; a backend failure counts as a miss."""
        key = self.key_for(agency, kind, subject)
        raw = await self._guard("get", self.backend.get(key), _FAILED)
        if raw is _FAILED:
            self._metrics.cache_lookups.labels(agency, kind, "error").inc()
            return None
        entry = self._entry_of(key, raw) if raw is not None else None
        result = "miss" if entry is None else "hit" if entry.is_fresh(self.clock()) else "stale"
        self._metrics.cache_lookups.labels(agency, kind, result).inc()
        return entry

    async def peek(self, agency: str, kind: str, subject: str) -> CacheEntry | None:
        """Like `lookup`, without counting: for waiting on another instance's fill."""
        key = self.key_for(agency, kind, subject)
        raw = await self._guard("get", self.backend.get(key), None)
        return self._entry_of(key, raw) if raw else None

    async def store(
        self,
        agency: str,
        kind: str,
        subject: str,
        payload: bytes,
        *,
        fresh_ttl: float,
        stale_ttl: float,
        not_found: bool = False,
        value: Any = UNDECODED,
    ) -> CacheEntry:
        """Store an answer: fresh for `fresh_ttl` s, kept (servable as stale) for `stale_ttl` s.

        `payload` is the answer's JSON; `value`, when given, the same answer decoded, which an
        in-process backend then hands back as it is. It must be immutable: every hit shares it.
        """
        now = self.clock()
        entry = CacheEntry(payload, now, now + fresh_ttl, not_found)
        keep = max(fresh_ttl, stale_ttl)
        if keep > 0:
            key = self.key_for(agency, kind, subject)
            held = CacheEntry(b"", entry.fetched_at, entry.fresh_until, not_found, value)
            encoded = self._encode(key, entry)
            weight = len(encoded)
            if value is not UNDECODED:
                weight += DECODED_WEIGHT * len(payload) + HELD_OVERHEAD
            raw = _Held(encoded, held, weight)
            await self._guard("set", self.backend.set(key, raw, keep), None)
        return entry

    async def acquire_lease(self, agency: str, kind: str, subject: str, ttl: float) -> bytes | None:
        """Take the short lease that makes this instance the one to load `subject`: its token,
        or None when another instance holds it.

        A token also when the cache cannot answer: then every instance loads for itself, which
        costs upstream calls but never availability.
        """
        key = self.key_for(agency, kind, subject) + ":lease"
        token = os.urandom(16)
        taken = await self._guard("add", self.backend.add(key, token, ttl), True)
        return token if taken else None

    async def release_lease(self, agency: str, kind: str, subject: str, token: bytes) -> None:
        """Release the lease if this holder still has it (it may have expired and moved on)."""
        key = self.key_for(agency, kind, subject) + ":lease"
        await self._guard("delete", self.backend.delete_if(key, token), None)

    async def _guard(self, op: str, call: Awaitable[T], failed: T) -> T:
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except Exception as exc:  # any backend fault degrades to `failed`, never to the client
            log.warning("cache %s failed on %s: %s", op, self.backend.name, type(exc).__name__)
            return failed

    def _encode(self, key: str, entry: CacheEntry) -> bytes:
        flags = (_NOT_FOUND if entry.not_found else 0) | (_ENCRYPTED if self._aead else 0)
        header = _HEADER.pack(flags, entry.fetched_at, entry.fresh_until)
        if self._aead is None:
            return header + entry.payload
        nonce = os.urandom(_NONCE_BYTES)
        # The key and header are authenticated too, so a ciphertext cannot be replayed under
        # another citizen's key or with forged freshness times.
        sealed = self._aead.encrypt(nonce, entry.payload, key.encode() + header)
        return header + nonce + sealed

    def _entry_of(self, key: str, raw: bytes) -> CacheEntry | None:
        if type(raw) is _Held and (raw.entry.value is not UNDECODED or raw.entry.not_found):
            return raw.entry  # the object this process stored: nothing to decode
        return self._decode(key, raw)

    def _decode(self, key: str, raw: bytes) -> CacheEntry | None:
        if len(raw) < _HEADER.size:
            return None
        flags, fetched_at, fresh_until = _HEADER.unpack_from(raw)
        body = raw[_HEADER.size :]
        if flags & _ENCRYPTED:
            if self._aead is None or len(body) < _NONCE_BYTES:
                return None
            try:
                body = self._aead.decrypt(
                    body[:_NONCE_BYTES], body[_NONCE_BYTES:], key.encode() + raw[: _HEADER.size]
                )
            except InvalidTag:
                log.warning("cache entry failed authentication; treated as a miss")
                return None
        elif self._aead is not None:
            return None  # plaintext left from before encryption was configured: refetch
        return CacheEntry(body, fetched_at, fresh_until, bool(flags & _NOT_FOUND))


class _Held(bytes):
    """An encoded envelope that also carries the entry it encodes (see the module docstring):
    for a shared backend it is only bytes; an in-process one returns it with its entry and
    charges it its `weight` (bytes and decoded objects) against its budget."""

    entry: CacheEntry
    weight: int

    def __new__(cls, raw: bytes, entry: CacheEntry, weight: int) -> _Held:
        held = super().__new__(cls, raw)
        held.entry = entry
        held.weight = weight
        return held


_FAILED = object()
