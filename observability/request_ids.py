"""What a request id may be: the one rule for ids we accept, make, log and send.

A request id is taken from a client's `X-Request-Id` (`observability.middleware`), echoed to the
client, written on every log line and audit record of the request, and sent to each agency the
request calls (`connectors.pipeline.base`), so it must be an id and nothing more: 1–64 of
`A-Z a-z 0-9 . _ -`, and no 8 or more digits in a row, separators between them ignored (the
shortest a national code is, written without its leading zeros; mobiles, cards and postal codes
are longer). What fails the rule is never logged, recorded or forwarded as a header.
"""

from __future__ import annotations

import re
import uuid

__all__ = ["REQUEST_ID_HEADER", "accepted_request_id", "new_request_id", "probe_request_id"]

REQUEST_ID_HEADER = "X-Request-Id"

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_DIGIT_RUN = re.compile(r"[0-9](?:[._-]*[0-9]){7}")
"""Eight digits, whatever `.`, `_` or `-` stand between them: could be a national code."""


def accepted_request_id(raw: str | None) -> str | None:
    """The id if it is safe to log, record and send as it is, else None."""
    if raw is None or not _REQUEST_ID.fullmatch(raw) or _DIGIT_RUN.search(raw):
        return None
    return raw


def new_request_id() -> str:
    """A random id that passes our own rule (a hex uuid can hold eight digits in a row)."""
    while True:
        candidate = uuid.uuid4().hex
        if not _DIGIT_RUN.search(candidate):
            return candidate


def probe_request_id(agency: str) -> str:
    """The id of one health probe, `probe-<agency>-<random>`: an agency's logs tell our probes
    from citizens' calls by it."""
    while True:
        candidate = f"probe-{agency}-{new_request_id()[:12]}"
        if accepted_request_id(candidate) is not None:
            return candidate
