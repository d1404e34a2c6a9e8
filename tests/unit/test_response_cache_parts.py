"""The response cache's parts without sockets: a kept answer renders its ages for the time it is
served and survives the trip through bytes; which documents may be kept at all."""

from __future__ import annotations

import orjson
from graphql import parse

from schema.response_cache.entry import CachedResponse, new_token, slot_marker
from schema.response_cache.shape import Shape


def _kept(fetched: tuple[float, ...], data: dict) -> CachedResponse:
    token = new_token()
    body = orjson.dumps(data).replace(b'"AGE0"', b'"' + slot_marker(token, 0).encode() + b'"')
    body = body.replace(b'"AGE1"', b'"' + slot_marker(token, 1).encode() + b'"')
    return CachedResponse(1000.0, 1300.0, token, body, fetched, ({"access": "me"},))


def test_ages_are_rendered_from_their_fetch_times() -> None:
    data = {"data": {"a": {"ageSeconds": "AGE0"}, "b": [{"ageSeconds": "AGE1"}]}}
    kept = _kept((990.2, 700.0), data)
    assert orjson.loads(kept.render(1000.5)) == {
        "data": {"a": {"ageSeconds": 10}, "b": [{"ageSeconds": 300}]}
    }
    later = orjson.loads(kept.render(1061.0))
    assert later["data"]["a"]["ageSeconds"] == 70 and later["data"]["b"][0]["ageSeconds"] == 361


def test_a_kept_answer_survives_bytes() -> None:
    kept = _kept((990.0,), {"data": {"a": {"ageSeconds": "AGE0", "name": "مریم"}}})
    again = CachedResponse.from_bytes(kept.to_bytes())
    assert again is not None
    assert again.render(1005.0) == kept.render(1005.0)
    assert (again.stored_at, again.fresh_until, again.audit) == (1000.0, 1300.0, kept.audit)
    assert CachedResponse.from_bytes(b"\x00\x01") is None


def test_an_answer_without_ages_is_its_body() -> None:
    kept = CachedResponse(1.0, 2.0, new_token(), b'{"data":{"x":1}}')
    assert kept.render(5.0) == b'{"data":{"x":1}}'


def _shape(query: str, variables: dict | None = None) -> Shape:
    return Shape(parse(query), None, variables)


def test_which_documents_may_be_kept() -> None:
    assert _shape("{ me { profile { firstName } } }").cacheable()
    assert _shape('query { billInquiry(billId: "1", paymentId: "2") { amount } }').cacheable()
    force = 'mutation { setCircuit(agency: "tax", state: OPEN) { appliedTo } }'
    assert not _shape(force).cacheable()
    assert not _shape("{ agencies { id circuit } }").cacheable()
    assert not _shape("{ me { accessLog(first: 5) { items { at } } } }").cacheable()
    hidden = (
        "{ me { ...F } } fragment F on Me { nationalCode accessLog(first: 1) { items { at } } }"
    )
    assert not _shape(hidden).cacheable()
    skipped = (
        "query($s: Boolean!) { me { nationalCode "
        "accessLog(first: 1) @skip(if: $s) { items { at } } } }"
    )
    assert _shape(skipped, {"s": True}).cacheable()
    assert not _shape(skipped, {"s": False}).cacheable()


def test_age_slots_are_found_under_aliases_and_lists() -> None:
    query = "{ me { p: profile { s: source { a: ageSeconds stale } } bills { items { kind } } } }"
    data = {"me": {"p": {"s": {"a": 3, "stale": False}}, "bills": {"items": [{"kind": "WATER"}]}}}
    slots = list(_shape(query).age_slots(data))
    assert [(holder is data["me"]["p"]["s"], key) for holder, key in slots] == [(True, "a")]
