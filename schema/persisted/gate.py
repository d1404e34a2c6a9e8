"""The persisted-query protocol: which document a request runs, or why it runs none.

Apollo's Automatic Persisted Queries, as Apollo Client's persisted-queries link speaks it:

    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": H}}}            hash only
        known H ─▶ run the stored document
        unknown ─▶ PERSISTED_QUERY_NOT_FOUND, message `PersistedQueryNotFound`
                   (the link then sends the query with the hash, by POST)
    {"query": Q, "extensions": {"persistedQuery": …H}}                             registration
        sha256(Q) ≠ H ─▶ INVALID_INPUT (HTTP 400), nothing stored
        else run Q; it is stored once it has parsed and validated (`schema.extensions.
        persisted_queries`), so only documents that passed every limit are ever kept

Manifest mode answers hash-only requests from the manifest alone, runs a full query only when
its SHA-256 is listed, refuses anything else with PERSISTED_QUERY_NOT_IN_LIST, and stores
nothing. With persisted queries off, any hash gets PERSISTED_QUERY_NOT_SUPPORTED, which tells
the Apollo link to stop sending hashes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cache.backend import CacheBackend
from cache.memory import MemoryCache
from domain.errors import (
    InvalidInput,
    PersistedQueryHashMismatch,
    PersistedQueryNotFound,
    PersistedQueryNotInList,
    PersistedQueryNotSupported,
)
from schema.persisted.config import PersistedQueries
from schema.persisted.manifest import Manifest, sha256_hex
from schema.persisted.store import ApqStore

__all__ = ["PersistedQueryGate", "Resolved", "persisted_hash"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MANIFEST_ID = re.compile(r"[\w.:+/=-]{1,128}", re.ASCII)
_FIELD = "extensions.persistedQuery"


@dataclass(frozen=True, slots=True)
class Resolved:
    """The document to run, and whether it was named by hash alone (cacheable over GET)."""

    query: str | None
    by_hash: bool = False


def persisted_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The hash of `extensions.persistedQuery`, checked for shape; None when absent."""
    if not extensions or extensions.get("persistedQuery") is None:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
        raise InvalidInput(_FIELD, "persistedQuery must be {version: 1, sha256Hash}")
    value = persisted.get("sha256Hash")
    if not isinstance(value, str) or not _MANIFEST_ID.fullmatch(value):
        raise InvalidInput(f"{_FIELD}.sha256Hash", "sha256Hash must be a hash string")
    return value


class PersistedQueryGate:
    """Applies the configured mode to one request's `query` and `extensions`."""

    def __init__(self, config: PersistedQueries, store: ApqStore | None) -> None:
        self.config = config
        self.store = store
        self.manifest: Manifest | None = config.manifest

    @classmethod
    def from_settings(
        cls, config: PersistedQueries, *, shared: CacheBackend | None, namespace: str
    ) -> PersistedQueryGate:
        """The gate of a gateway: APQ over `shared` (None: this process only)."""
        store = None
        if config.mode == "apq":
            store = ApqStore(
                local=MemoryCache(max_entries=config.local_entries),
                shared=shared,
                namespace=namespace,
                ttl_s=config.apq_ttl_s,
                max_bytes=config.max_query_bytes,
            )
        return cls(config, store)

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> Resolved:
        """The document this request runs; raises the typed refusal otherwise."""
        given = persisted_hash(extensions)
        if self.config.mode == "off":
            if given is not None:
                raise PersistedQueryNotSupported()
            return Resolved(query)
        if self.manifest is not None:
            return self._from_manifest(self.manifest, query, given)
        if given is None:
            return Resolved(query)
        if not _SHA256.fullmatch(given):
            raise InvalidInput(f"{_FIELD}.sha256Hash", "sha256Hash must be 64 lowercase hex digits")
        if query:
            if sha256_hex(query) != given:
                raise PersistedQueryHashMismatch()
            return Resolved(query)
        stored = await self.store.lookup(given) if self.store else None
        if stored is None:
            raise PersistedQueryNotFound()
        return Resolved(stored, by_hash=True)

    def _from_manifest(self, manifest: Manifest, query: str | None, given: str | None) -> Resolved:
        if query:
            if manifest.lists(query):
                return Resolved(query)
            raise PersistedQueryNotInList(
                "this gateway runs only the operations of its persisted-operations manifest"
            )
        if given is None:
            return Resolved(query)  # no document at all: the view's own 400
        listed = manifest.document(given)
        if listed is None:
            raise PersistedQueryNotFound()
        return Resolved(listed, by_hash=True)

    async def register_after_validation(
        self, query: str | None, extensions: Mapping[str, Any] | None
    ) -> bool:
        """Store a document that carried its hash and has just passed validation (APQ only)."""
        if self.store is None or not query:
            return False
        try:
            given = persisted_hash(extensions)
        except InvalidInput:
            return False
        if given is None or sha256_hex(query) != given:
            return False
        return await self.store.register(given, query)

    def runs(self, query: str | None) -> bool:
        """Whether a validated document may execute here (manifest mode: only listed ones)."""
        return self.manifest is None or (query is not None and self.manifest.lists(query))
