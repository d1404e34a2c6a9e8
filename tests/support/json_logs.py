"""The `json_lines` fixture: what the process logs, as the gateway writes it (JSON lines)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from observability.logs import log_handler


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every record of the process, at DEBUG, through the JSON handler the gateway installs."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
