"""Property deeds at the land registry: apartments, houses, plots and shops a citizen owns."""

from __future__ import annotations

import random
from fractions import Fraction

from sandbox.jalali import days_from_today
from sandbox.records import Deed
from sandbox.synth.billing import digits
from sandbox.vocabulary import ALLEYS, STREETS, City

_KINDS = ("APARTMENT", "HOUSE", "LAND", "SHOP")
_KIND_WEIGHTS = (60, 15, 15, 10)
# Shares in دانگ (a sixth of the property): mostly whole, often halves of a couple, sometimes an
# inheritance's odd part.
_DANGS = (Fraction(6), Fraction(3), Fraction(2), Fraction(3, 2), Fraction(5, 2), Fraction(4))
_DANG_WEIGHTS = (60, 20, 6, 5, 5, 4)
_OLDEST_DAYS = 30 * 365


def _address(rng: random.Random, city: City, kind: str) -> str:
    street = f"{rng.choice(STREETS)}، {rng.choice(ALLEYS)}"
    where = f"{city.province}، {city.name}، {street}، پلاک {rng.randint(1, 250)}"
    return f"{where}، واحد {rng.randint(1, 24)}" if kind == "APARTMENT" else where


def deeds(rng: random.Random, city: City, count: int) -> tuple[Deed, ...]:
    """`count` deeds, oldest first by (issue date, deed number): the registry's page order."""
    drafts = []
    for _ in range(count):
        issued = days_from_today(-rng.randint(30, _OLDEST_DAYS))
        kind = rng.choices(_KINDS, weights=_KIND_WEIGHTS)[0]
        drafts.append(
            Deed(
                deed_no=f"{issued.year}{digits(rng, 8)}",
                kind=kind,
                plaque=f"{rng.randint(1, 9999)}/{rng.randint(1, 999)}",
                address=_address(rng, city, kind),
                dang=rng.choices(_DANGS, weights=_DANG_WEIGHTS)[0],
                issued_at=issued,
            )
        )
    drafts.sort(key=lambda deed: (deed.issued_at, deed.deed_no))
    return tuple(drafts)
