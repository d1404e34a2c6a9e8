"""Who a synthetic citizen is: names, birth, mobile and home address."""

from __future__ import annotations

import random
from dataclasses import dataclass

import jdatetime

from sandbox.ids import (
    POSTAL_FIFTH_DIGITS,
    POSTAL_HEAD_DIGITS,
    POSTAL_TAIL_DIGITS,
    is_valid_postal_code,
)
from sandbox.jalali import TODAY, safe_date
from sandbox.records import Address
from sandbox.vocabulary import (
    ALLEYS,
    CITIES,
    FEMALE_NAMES,
    LAST_NAMES,
    MALE_NAMES,
    MOBILE_PREFIXES,
    STREETS,
    City,
)


@dataclass(frozen=True, slots=True)
class Identity:
    """The civil registry's view of a person plus where they live."""

    first_name: str
    last_name: str
    father_name: str
    gender: str  # "male" | "female"
    birth_date: jdatetime.date
    birth_place: str
    alive: bool
    death_date: jdatetime.date | None
    mobile: str | None
    home: City


def random_mobile(rng: random.Random) -> str:
    """`09` + nine digits, with a real operator prefix."""
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choices("0123456789", k=7))


def random_identity(rng: random.Random, has_mobile: bool = True) -> Identity:
    """A random adult-or-teen citizen (born 1330–1388), about 3% deceased."""
    gender = "male" if rng.random() < 0.5 else "female"
    first = rng.choice(MALE_NAMES if gender == "male" else FEMALE_NAMES)
    birth = safe_date(rng.randint(1330, 1388), rng.randint(1, 12), rng.randint(1, 31))
    home = rng.choice(CITIES)
    birth_place = home.name if rng.random() < 0.6 else rng.choice(CITIES).name
    alive = rng.random() >= 0.03
    death = None if alive else safe_date(rng.randint(1395, TODAY.year - 1), rng.randint(1, 12), 1)
    return Identity(
        first_name=first,
        last_name=rng.choice(LAST_NAMES),
        father_name=rng.choice(MALE_NAMES),
        gender=gender,
        birth_date=birth,
        birth_place=birth_place,
        alive=alive,
        death_date=death,
        mobile=random_mobile(rng) if has_mobile else None,
        home=home,
    )


def random_postal_code(rng: random.Random) -> str:
    """A postal code the Post Company could have issued (DESIGN §5)."""
    while True:
        code = (
            "".join(rng.choices(POSTAL_HEAD_DIGITS, k=4))
            + rng.choice(POSTAL_FIFTH_DIGITS)
            + "".join(rng.choices(POSTAL_TAIL_DIGITS, k=5))
        )
        if is_valid_postal_code(code):  # the first four all alike: about 1 in 500
            return code


def random_address(rng: random.Random, city: City) -> Address:
    """An address in `city`; about a third are houses with no unit/floor."""
    postal = random_postal_code(rng)
    street = f"{rng.choice(STREETS)}، {rng.choice((*ALLEYS, f'کوچه {rng.randint(1, 40)}'))}"
    house = rng.random() < 0.33
    return Address(
        postal_code=postal,
        province=city.province,
        city=city.name,
        street=street,
        plaque=str(rng.randint(1, 250)),
        unit=None if house else str(rng.randint(1, 12)),
        floor=None if house else str(rng.randint(1, 6)),
    )
