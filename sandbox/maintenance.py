"""Nightly maintenance windows, in Tehran wall-clock time, as agencies announce them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

TEHRAN = ZoneInfo("Asia/Tehran")
_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A daily window [start, end) in minutes after Tehran midnight; may wrap past midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> MaintenanceWindow:
        """`"00:00-02:00"` or `"23:30-01:00"`; ValueError with a readable message otherwise."""
        match = _PATTERN.match(text)
        if match is None:
            raise ValueError(f"maintenance window must look like 00:00-02:00, got {text!r}")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"maintenance window has an impossible time: {text!r}")
        window = cls(h1 * 60 + m1, h2 * 60 + m2)
        if window.start == window.end:
            raise ValueError(f"maintenance window is empty: {text!r}")
        return window

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )

    def seconds_left(self, now: dt.datetime | None = None) -> int | None:
        """Seconds until the window ends if `now` (default: the clock) is inside it, else None."""
        moment = (now or dt.datetime.now(TEHRAN)).astimezone(TEHRAN)
        minute = moment.hour * 60 + moment.minute
        elapsed = (minute - self.start) % _DAY
        length = (self.end - self.start) % _DAY
        if elapsed >= length:
            return None
        return max(1, (length - elapsed) * 60 - moment.second)
