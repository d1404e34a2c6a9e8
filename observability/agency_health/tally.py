"""What an agency's samples came to: counts that add up, and the per-minute shares they give.

    Sample ──▶ Tally (one agency, one minute; or one agency since the last probe tick)
                 ok, failed, maintenance, failed by Failure kind, latency by bucket
    Tally  ──▶ Shares (one agency, one hour: the sum of its minutes' good shares)

Tallies only ever add (`merge`), so instances add theirs into the same minute in any order and
a flush is a batch of increments. Availability weighs each minute with samples the same: a
minute's share is ok / (ok + failed) without maintenance, ok / (ok + failed + maintenance) with
it; an hour keeps the sum of its minutes' shares and how many minutes gave one.

Latency buckets have fixed bounds, four per doubling from 1 ms to about 65 s (and one above), so
every instance counts into the same buckets and a p95 can be read from summed counts, within
one bucket (about 19 %).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from observability.agency_health.model import Failure, Sample

__all__ = ["BACK_AT_FIELD", "LATENCY_BOUNDS", "Shares", "Tally", "bucket_of"]

LATENCY_BOUNDS: tuple[float, ...] = tuple(0.001 * 2 ** (i / 4) for i in range(65))
"""Upper bounds (seconds) of the latency buckets; bucket `len(LATENCY_BOUNDS)` holds the rest."""

_OK, _FAILED, _MAINTENANCE = "ok", "failed", "maint"
_FAILURE_PREFIX, _LATENCY_PREFIX = "f:", "l:"
_FAILURES = {str(kind): kind for kind in Failure}
BACK_AT_FIELD = "back"
"""The field of `back_at`: set, not added (`fields` leaves it out; stores write it apart)."""


def bucket_of(seconds: float) -> int:
    """The latency bucket of a duration: the first whose bound is not below it."""
    return bisect.bisect_left(LATENCY_BOUNDS, seconds)


@dataclass(slots=True)
class Tally:
    """Samples of one agency over some span, counted so that tallies add up."""

    ok: int = 0
    failed: int = 0
    maintenance: int = 0
    failures: dict[Failure, int] = field(default_factory=dict)
    latency: dict[int, int] = field(default_factory=dict)
    """Bucket index → samples; maintenance samples are not timed (the agency did no work)."""
    back_at: float | None = None
    """The latest end of a maintenance the samples announced (their Retry-After)."""

    @property
    def judged(self) -> int:
        """Samples that say whether the agency worked (maintenance says it was planned off)."""
        return self.ok + self.failed

    @property
    def empty(self) -> bool:
        return not (self.ok or self.failed or self.maintenance)

    @property
    def answered(self) -> int:
        """Samples the agency answered, if only to say "not now" (ok, or 429)."""
        return self.ok + self.failures.get(Failure.RATE_LIMITED, 0)

    def add(self, sample: Sample) -> None:
        if sample.maintenance:
            self.maintenance += 1
            self._announced(sample.back_at)
            return
        if sample.ok:
            self.ok += 1
        else:
            self.failed += 1
            if sample.failure is not None:
                self.failures[sample.failure] = self.failures.get(sample.failure, 0) + 1
        bucket = bucket_of(sample.seconds)
        self.latency[bucket] = self.latency.get(bucket, 0) + 1

    def merge(self, other: Tally) -> None:
        self.ok += other.ok
        self.failed += other.failed
        self.maintenance += other.maintenance
        for kind, n in other.failures.items():
            self.failures[kind] = self.failures.get(kind, 0) + n
        for bucket, n in other.latency.items():
            self.latency[bucket] = self.latency.get(bucket, 0) + n
        self._announced(other.back_at)

    def _announced(self, back_at: float | None) -> None:
        if back_at is not None and (self.back_at is None or back_at > self.back_at):
            self.back_at = back_at

    @classmethod
    def total(cls, tallies: Iterable[Tally]) -> Tally:
        summed = cls()
        for tally in tallies:
            summed.merge(tally)
        return summed

    def failure_ratio(self, min_samples: int = 1) -> float | None:
        """failed / (ok + failed); None with fewer than `min_samples` judged samples."""
        judged = self.judged
        if judged == 0 or judged < min_samples:
            return None
        return self.failed / judged

    def quantile(self, q: float) -> float | None:
        """The `q` quantile of the timed samples (None without any), interpolated within its
        bucket on a log scale; the open top bucket answers its lower bound."""
        count = sum(self.latency.values())
        if count == 0:
            return None
        rank = q * count
        seen = 0
        for bucket in sorted(self.latency):
            n = self.latency[bucket]
            if seen + n >= rank:
                if bucket >= len(LATENCY_BOUNDS):
                    return LATENCY_BOUNDS[-1]
                upper = LATENCY_BOUNDS[bucket]
                lower = LATENCY_BOUNDS[bucket - 1] if bucket > 0 else upper / 2**0.25
                within = (rank - seen) / n
                return math.exp(math.log(lower) + within * (math.log(upper) - math.log(lower)))
            seen += n
        return LATENCY_BOUNDS[-1]  # not reached: the counts sum to `count`

    def fields(self) -> dict[str, int]:
        """The tally's counts as a flat mapping of non-zero counts (a Redis hash's fields, each
        added to); `back_at` is not a count and is left out."""
        flat = {_OK: self.ok, _FAILED: self.failed, _MAINTENANCE: self.maintenance}
        flat |= {f"{_FAILURE_PREFIX}{kind}": n for kind, n in self.failures.items()}
        flat |= {f"{_LATENCY_PREFIX}{bucket}": n for bucket, n in self.latency.items()}
        return {name: n for name, n in flat.items() if n}

    @classmethod
    def from_fields(cls, flat: Mapping[str | bytes, str | bytes | int]) -> Tally:
        """The inverse of `fields`; fields it does not know are left out."""
        tally = cls()
        for raw_name, raw_value in flat.items():
            name = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
            if name == BACK_AT_FIELD:
                tally.back_at = float(raw_value)
                continue
            value = int(raw_value)
            if name == _OK:
                tally.ok = value
            elif name == _FAILED:
                tally.failed = value
            elif name == _MAINTENANCE:
                tally.maintenance = value
            elif name.startswith(_FAILURE_PREFIX) and name[2:] in _FAILURES:
                tally.failures[_FAILURES[name[2:]]] = value
            elif name.startswith(_LATENCY_PREFIX) and name[2:].isdigit():
                tally.latency[int(name[2:])] = value
        return tally

    def shares(self) -> Shares:
        """This tally as one minute of an hour's `Shares`."""
        shares = Shares()
        if self.judged:
            shares.minutes_excluding = 1
            shares.good_excluding = self.ok / self.judged
        if self.judged or self.maintenance:
            shares.minutes_including = 1
            shares.good_including = self.ok / (self.judged + self.maintenance)
        if self.maintenance:
            shares.maintenance_minutes = 1
        return shares


_SHARE_FIELDS = {
    "mx": "minutes_excluding",
    "gx": "good_excluding",
    "mi": "minutes_including",
    "gi": "good_including",
    "mm": "maintenance_minutes",
}


@dataclass(slots=True)
class Shares:
    """Minutes' good shares summed (over an hour, a day, a window), and how many minutes gave
    one; availability is their mean."""

    minutes_excluding: float = 0.0  # minutes with a judged sample
    good_excluding: float = 0.0  # Σ ok / (ok + failed)
    minutes_including: float = 0.0  # minutes with any sample
    good_including: float = 0.0  # Σ ok / (ok + failed + maintenance)
    maintenance_minutes: float = 0.0  # minutes with a maintenance sample

    def merge(self, other: Shares) -> None:
        for name in _SHARE_FIELDS.values():
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @classmethod
    def total(cls, many: Iterable[Shares]) -> Shares:
        summed = cls()
        for shares in many:
            summed.merge(shares)
        return summed

    @property
    def excluding_maintenance(self) -> float | None:
        return _mean(self.good_excluding, self.minutes_excluding)

    @property
    def including_maintenance(self) -> float | None:
        return _mean(self.good_including, self.minutes_including)

    def fields(self) -> dict[str, float]:
        flat = {short: getattr(self, name) for short, name in _SHARE_FIELDS.items()}
        return {short: value for short, value in flat.items() if value}

    @classmethod
    def from_fields(cls, flat: Mapping[str | bytes, str | bytes | float]) -> Shares:
        shares = cls()
        for raw_name, raw_value in flat.items():
            name = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
            if name in _SHARE_FIELDS:
                setattr(shares, _SHARE_FIELDS[name], float(raw_value))
        return shares


def _mean(total: float, minutes: float) -> float | None:
    if minutes <= 0:
        return None
    return min(1.0, max(0.0, total / minutes))  # float sums may stray past the bounds
