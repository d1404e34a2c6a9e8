"""Answers as the agencies send them (JSON, or XML where `content_type` says), precomputed and
cached per citizen.

Benchmarks hit the sandbox thousands of times a second; an answer is encoded once per
citizen and served from an lru_cache afterwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

CACHE_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class Answer:
    """A ready-to-send answer."""

    status: int
    body: bytes
    content_type: str = "application/json"

    def response(self) -> web.Response:
        return web.Response(
            status=self.status, body=self.body, content_type=self.content_type, charset="utf-8"
        )


def encode(data: Any) -> bytes:
    """Compact UTF-8 JSON, Persian text unescaped as agencies send it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def ok(data: Any) -> Answer:
    return Answer(200, encode(data))


def error(status: int, key: str, message: str) -> Answer:
    """Agencies disagree on the error key (`error` vs `message`), so it is a parameter."""
    return Answer(status, encode({key: message}))


INVALID_NATIONAL_CODE = error(400, "error", "invalid national code")
