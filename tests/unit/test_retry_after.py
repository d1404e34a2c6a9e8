"""The one reading of Retry-After, shared by real calls and probes (RFC 9110 §10.2.3)."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from connectors.pipeline.retry_after import retry_after_seconds

NOW = 1_767_268_800.0  # 2026-01-01 12:00 UTC


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        (formatdate(NOW + 600, usegmt=True), 600.0),  # an HTTP date
        ("Thu, 01 Jan 2026 12:10:00 GMT", 600.0),
        ("Thursday, 01-Jan-26 12:10:00 GMT", 600.0),  # the obsolete RFC 850 form
        ("Thu, 01 Jan 2026 12:10:00 -0000", 600.0),  # a zone not said: GMT
        (formatdate(NOW - 60, usegmt=True), 0.0),  # already past: now
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_a_delay_or_a_date_is_seconds_from_now(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds
