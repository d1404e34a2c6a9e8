"""Turning a correct agency answer into a broken one that still says 200.

Agencies do send these: a body cut short by a proxy, a field whose type changed in a release,
a field silently dropped. The corruption works on the real answer, so it is broken in the
places a parser relies on.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from sandbox.faults import Malformation
from sandbox.pages import WireStyle

# Keys a connector is sure to read: amounts first, then other typed values.
_KEY_FIELDS = (
    "amount", "amount_rial", "mablagh", "resultCode", "postalCode", "covered", "status",
    "insuranceNo", "licenseNumber", "plate", "licenseNo", "level", "noticeId",
)  # fmt: skip
_XML_RETYPED = {
    "ResultCode": "OK", "Gender": "MALE", "IsAlive": "yes", "BirthDate": "1365-04-12",
    "ShareDang": "شش دانگ", "IssueDate": "امروز",
}  # fmt: skip
_XML_DROPPED = ("ResultCode", "NationalCode", "FirstName", "LastName", "DeedNo", "IssueDate")


OVERSIZED_BYTES = 50 * 1024 * 1024
_CHUNK = b" " * (64 * 1024)

# Billion laughs: ten levels of ten references, a few bytes that expand to gigabytes.
_LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
XML_BOMB = (
    f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{_LAUGHS}]><lolz>&lol9;</lolz>'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>'
)


def corrupt(response: web.Response, kind: Malformation, style: WireStyle) -> web.Response:
    """A 200 answer with the same content type and a body broken in the way `kind` says."""
    if kind in ("xml_bomb", "external_entity", "oversized"):
        return _hostile(response, kind)
    text = (response.body or b"").decode("utf-8") if isinstance(response.body, bytes) else ""
    if kind == "truncated" or not text:
        broken = _truncate(text)
    elif style in ("soap", "xml"):
        broken = _break_xml(text, kind)
    else:
        broken = _break_json(text, kind)
    return web.Response(
        status=200,
        body=broken.encode("utf-8"),
        content_type=response.content_type,
        charset="utf-8",
    )


def _truncate(text: str) -> str:
    """Cut mid-document (on a character boundary, so the bytes still decode)."""
    return text[: max(1, len(text) // 2)] if text else "{"


def _break_xml(text: str, kind: Malformation) -> str:
    if kind == "wrong_types":
        for name, value in _XML_RETYPED.items():
            text = re.sub(rf"(<(?:\w+:)?{name}>)[^<]*(</)", rf"\g<1>{value}\g<2>", text)
        return text
    for name in _XML_DROPPED:
        text = re.sub(rf"<(?:\w+:)?{name}>[^<]*</(?:\w+:)?{name}>", "", text)
    return text


def _break_json(text: str, kind: Malformation) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return _truncate(text)
    if not isinstance(document, dict):
        return json.dumps({"value": document}, ensure_ascii=False)
    for target in _targets(document):
        if kind == "wrong_types":
            _retype(target)
        else:
            _drop(target)
    return json.dumps(document, ensure_ascii=False)


def _targets(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Objects to break: every object that carries a key field, else the document itself."""
    found: list[dict[str, Any]] = []
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if any(key in node for key in _KEY_FIELDS):
                found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found or [document]


def _key_of(node: dict[str, Any]) -> str | None:
    """The field a parser needs most: a key field, else a list (the payload), else the first."""
    for key in _KEY_FIELDS:
        if key in node:
            return key
    lists = [key for key, value in node.items() if isinstance(value, list)]
    return lists[0] if lists else next(iter(node), None)


def _retype(node: dict[str, Any]) -> None:
    """The key field becomes an object, e.g. `"amount": {"value": 1234000}`."""
    key = _key_of(node)
    if key is not None:
        node[key] = {"value": node[key]}


def _drop(node: dict[str, Any]) -> None:
    key = _key_of(node)
    if key is not None:
        del node[key]


def _hostile(response: web.Response, kind: Malformation) -> web.Response:
    """An answer meant to hurt the parser or the memory of whoever reads it."""
    if kind == "oversized":
        # Streamed without a Content-Length: only a reader that counts as it reads stops it.
        return web.Response(status=200, body=_spaces(OVERSIZED_BYTES), content_type="text/plain")
    body = XML_BOMB if kind == "xml_bomb" else EXTERNAL_ENTITY
    return web.Response(status=200, text=body, content_type=response.content_type or "text/xml")


async def _spaces(total: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield _CHUNK
        sent += len(_CHUNK)
