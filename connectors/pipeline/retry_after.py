"""Reading an agency's Retry-After header, once for real calls and probes alike.

RFC 9110 §10.2.3 allows a delay in seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026
07:28:00 GMT`); agencies send either in maintenance (503) and when limiting us (429). A
date already past is a delay of 0; anything else is no Retry-After at all.
"""

from __future__ import annotations

import datetime as dt
import email.utils

__all__ = ["retry_after_seconds"]


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds until the agency takes calls again, by `value`; `now` is unix time (what a date
    is measured from). None when the header is absent or says neither form."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP dates are GMT whatever the zone says
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)
