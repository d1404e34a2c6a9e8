"""JSON to bytes for responses: orjson when installed (several times faster than the standard
library on our answers), else `json`, so the gateway starts where orjson has no wheel.

Both write UTF-8 without ASCII escapes and without spaces, so the bytes differ only where the
libraries' float formatting does (never in our answers: amounts are strings, ages integers).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["FAST", "dumps", "loads"]

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; this keeps the import optional
    orjson = None  # type: ignore[assignment]

FAST = orjson is not None
"""Whether orjson is in use."""


def dumps(data: Any) -> bytes:
    """`data` as compact UTF-8 JSON."""
    if orjson is not None:
        return orjson.dumps(data)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def loads(data: bytes | str) -> Any:
    """The value of a JSON text we wrote ourselves (cache entries); not for client input, which
    `schema.http_input` bounds first."""
    if orjson is not None:
        return orjson.loads(data)
    return json.loads(data)
