"""The persisted-query gate and its store, without sockets: which document a request runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cache.memory import MemoryCache
from domain import errors as e
from schema.persisted.config import PersistedQueries
from schema.persisted.gate import PersistedQueryGate
from schema.persisted.manifest import APOLLO_FORMAT, Manifest, ManifestError, sha256_hex

QUERY = "{ me { profile { firstName } } }"
SHA = sha256_hex(QUERY)


def ext(sha256: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


def apq_gate(shared: MemoryCache | None = None, **config: object) -> PersistedQueryGate:
    return PersistedQueryGate.from_settings(
        PersistedQueries(**config), shared=shared, namespace="test"
    )


async def test_registration_is_what_makes_a_hash_known() -> None:
    gate = apq_gate()
    with pytest.raises(e.PersistedQueryNotFound):
        await gate.resolve(None, ext(SHA))
    assert (await gate.resolve(QUERY, ext(SHA))).query == QUERY  # resolving stores nothing
    with pytest.raises(e.PersistedQueryNotFound):
        await gate.resolve(None, ext(SHA))
    assert await gate.register_after_validation(QUERY, ext(SHA))
    resolved = await gate.resolve("", ext(SHA))
    assert resolved.query == QUERY and resolved.by_hash


async def test_a_registration_reaches_the_shared_backend_once() -> None:
    shared = MemoryCache()
    one, two = apq_gate(shared), apq_gate(shared)
    assert await one.register_after_validation(QUERY, ext(SHA))
    assert await shared.get(f"test:apq:{SHA}") == QUERY.encode()
    await shared.delete(f"test:apq:{SHA}")
    assert await one.register_after_validation(QUERY, ext(SHA))  # known locally: not re-sent
    assert await shared.get(f"test:apq:{SHA}") is None
    with pytest.raises(e.PersistedQueryNotFound):
        await two.resolve(None, ext(SHA))


async def test_only_a_matching_document_that_fits_is_registered() -> None:
    gate = apq_gate(max_query_bytes=256)
    with pytest.raises(e.PersistedQueryHashMismatch):
        await gate.resolve(QUERY, ext(sha256_hex("{ __typename }")))
    assert not await gate.register_after_validation(QUERY, ext(sha256_hex("{ __typename }")))
    big = QUERY + " " * 300
    assert not await gate.register_after_validation(big, ext(sha256_hex(big)))
    assert not await gate.register_after_validation(QUERY, None)


async def test_off_mode_says_not_supported_and_runs_plain_queries() -> None:
    gate = apq_gate(mode="off")
    with pytest.raises(e.PersistedQueryNotSupported):
        await gate.resolve(QUERY, ext(SHA))
    assert (await gate.resolve(QUERY, None)).query == QUERY
    assert not await gate.register_after_validation(QUERY, ext(SHA))


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 1}},
        {"persistedQuery": {"version": "1", "sha256Hash": SHA}},
        {"persistedQuery": {"version": 1, "sha256Hash": SHA + " "}},
        {"persistedQuery": {"version": 1, "sha256Hash": "x" * 64}},
        {"persistedQuery": []},
    ],
)
async def test_a_malformed_extension_is_invalid_input(extensions: dict[str, object]) -> None:
    with pytest.raises(e.InvalidInput) as raised:
        await apq_gate().resolve(None, extensions)
    assert raised.value.field.startswith("extensions.persistedQuery")


def test_both_manifest_shapes_give_the_same_operations() -> None:
    apollo = Manifest.from_json(
        {
            "format": APOLLO_FORMAT,
            "version": 1,
            "operations": [{"id": "op-1", "name": "Me", "type": "query", "body": QUERY}],
        }
    )
    codegen = Manifest.from_json({SHA: QUERY})
    for manifest, listed_id in ((apollo, "op-1"), (codegen, SHA)):
        assert manifest.document(listed_id) == QUERY
        assert manifest.document(SHA) == QUERY  # a hash of a listed text always names it
        assert manifest.lists(QUERY) and not manifest.lists(QUERY + " ")


def test_one_id_with_two_bodies_is_refused() -> None:
    operations = [
        {"id": "op", "name": "A", "type": "query", "body": QUERY},
        {"id": "op", "name": "B", "type": "query", "body": "{ __typename }"},
    ]
    with pytest.raises(ManifestError, match="two bodies"):
        Manifest.from_json({"format": APOLLO_FORMAT, "version": 1, "operations": operations})


async def test_manifest_mode_runs_listed_documents_only(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(f'{{"op-1": "{QUERY}"}}')
    gate = apq_gate(mode="manifest", manifest_path=path)
    assert (await gate.resolve(None, ext("op-1"))).query == QUERY
    assert (await gate.resolve(QUERY, None)).query == QUERY
    assert gate.runs(QUERY) and not gate.runs("{ __typename }")
    with pytest.raises(e.PersistedQueryNotInList):
        await gate.resolve("{ __typename }", None)
    with pytest.raises(e.PersistedQueryNotFound):
        await gate.resolve(None, ext("op-2"))
    assert not await gate.register_after_validation(QUERY, ext(SHA))
