"""A persisted-operations manifest: the only operations a gateway in manifest mode runs.

Two JSON shapes are read, the ones client build tools emit:

- a map of operation id to document, as GraphQL Code Generator's client preset writes
  (`persisted-documents.json`, ids are SHA-256 hashes by default) and Relay's compiler writes
  with `persistConfig` (ids of its own);
- Apollo's `persisted-query-manifest.json` (`@apollo/generate-persisted-query-manifest`):
  `{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "name",
  "type", "body"}]}`.

A client names an operation by its id (`extensions.persistedQuery.sha256Hash`), or sends a full
document whose SHA-256 is that of a listed one. Every document must parse; anything else in the
file is a configuration error raised at start-up, never a surprise on the first request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLError, parse

__all__ = ["APOLLO_FORMAT", "Manifest", "ManifestError", "sha256_hex"]

APOLLO_FORMAT = "apollo-persisted-query-manifest"
_MAX_ID_CHARS = 128


class ManifestError(ValueError):
    """The manifest file cannot be used; the message says which file and why."""


def sha256_hex(document: str) -> str:
    """The hash APQ and the manifests use: SHA-256 of the UTF-8 text, lowercase hex."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Manifest:
    """Listed documents by client-facing id, and the same documents by their SHA-256."""

    by_id: Mapping[str, str]
    by_sha256: Mapping[str, str]

    def __len__(self) -> int:
        return len(self.by_id)

    def document(self, operation_id: str) -> str | None:
        """The listed document a client names by id (or by the SHA-256 of its text)."""
        return self.by_id.get(operation_id) or self.by_sha256.get(operation_id)

    def lists(self, document: str) -> bool:
        """Whether this exact document text is one of the listed operations."""
        return sha256_hex(document) in self.by_sha256

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read and check a manifest file; `ManifestError` names what is wrong with it."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ManifestError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"{path} is not a JSON file: {exc}") from exc
        try:
            return cls.from_json(data)
        except ManifestError as exc:
            raise ManifestError(f"{path}: {exc}") from exc

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """A manifest from decoded JSON in either shape."""
        if isinstance(data, dict) and "format" in data:
            documents = _apollo_operations(data)
        elif isinstance(data, dict):
            documents = _id_map(data)
        else:
            raise ManifestError("expected a JSON object (an id → document map or Apollo's format)")
        if not documents:
            raise ManifestError("lists no operations")
        for operation_id, body in documents.items():
            _check(operation_id, body)
        by_sha256 = {sha256_hex(body): body for body in documents.values()}
        return cls(by_id=documents, by_sha256=by_sha256)


def _apollo_operations(data: dict[str, Any]) -> dict[str, str]:
    if data.get("format") != APOLLO_FORMAT or data.get("version") != 1:
        raise ManifestError(f'expected "format": "{APOLLO_FORMAT}" with "version": 1')
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ManifestError('"operations" must be a list')
    documents: dict[str, str] = {}
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise ManifestError(f"operation {index} is not an object")
        operation_id, body = operation.get("id"), operation.get("body")
        if not isinstance(operation_id, str) or not isinstance(body, str):
            raise ManifestError(f'operation {index} needs string "id" and "body"')
        if documents.get(operation_id, body) != body:
            raise ManifestError(f"operation id {operation_id!r} is listed with two bodies")
        documents[operation_id] = body
    return documents


def _id_map(data: dict[str, Any]) -> dict[str, str]:
    for operation_id, body in data.items():
        if not isinstance(body, str):
            raise ManifestError(f"the value of {operation_id!r} is not a document string")
    return dict(data)


def _check(operation_id: str, body: str) -> None:
    if not operation_id or len(operation_id) > _MAX_ID_CHARS or not operation_id.isprintable():
        raise ManifestError(f"operation id {operation_id[:40]!r} is empty, too long or unprintable")
    try:
        parse(body)
    except GraphQLError as exc:
        raise ManifestError(f"operation {operation_id!r} does not parse: {exc.message}") from exc
