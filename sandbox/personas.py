"""Fixed citizens with a known shape, for tests, demos and benchmarks.

`complete` has data in every agency, `sparse` is a known citizen almost nobody else holds,
`unknown` is a valid code no agency knows, `deceased` is registered as dead but still has
utility bills (as happens in life).
"""

from __future__ import annotations

import jdatetime

from sandbox.synth.identity import Identity
from sandbox.synth.profile import Profile
from sandbox.vocabulary import CITIES

PERSONAS: dict[str, str] = {
    "complete": "0012345679",
    "sparse": "0023456787",
    "unknown": "0034567895",
    "deceased": "0045678901",
}

_TEHRAN, _MASHHAD, _ISFAHAN = CITIES[0], CITIES[1], CITIES[2]

COMPLETE = (
    Identity(
        first_name="علی",
        last_name="محمدی",
        father_name="حسین",
        gender="male",
        birth_date=jdatetime.date(1365, 4, 12),
        birth_place="تهران",
        alive=True,
        death_date=None,
        mobile="09121234567",
        home=_TEHRAN,
    ),
    Profile(
        water=2,
        electricity=2,
        gas=1,
        phones=1,
        owes_everywhere=True,
        vehicles=2,
        fines=23,
        driving_license=True,
        taxpayer=True,
        tax_debts=2,
        big_tax_debt=True,
        licenses=2,
        insured=True,
        health_covered=True,
        education=4,
        sana=True,
        notices=3,
        military_status="COMPLETED",
        deeds=7,
        quirks=False,
    ),
)

SPARSE = (
    Identity(
        first_name="زهرا",
        last_name="کریمی",
        father_name="رضا",
        gender="female",
        birth_date=jdatetime.date(1370, 2, 20),
        birth_place="مشهد",
        alive=True,
        death_date=None,
        mobile="09351234567",
        home=_MASHHAD,
    ),
    Profile(health_covered=False, quirks=False),
)

UNKNOWN = (
    Identity(
        first_name="نامعلوم",
        last_name="نامعلوم",
        father_name="نامعلوم",
        gender="male",
        birth_date=jdatetime.date(1360, 1, 1),
        birth_place="تهران",
        alive=True,
        death_date=None,
        mobile=None,
        home=_TEHRAN,
    ),
    Profile(
        known_to_registry=False,
        has_mobile=False,
        has_address=False,
        health_known=False,
        quirks=False,
    ),
)

DECEASED = (
    Identity(
        first_name="محمود",
        last_name="رضایی",
        father_name="اکبر",
        gender="male",
        birth_date=jdatetime.date(1320, 9, 5),
        birth_place="اصفهان",
        alive=False,
        death_date=jdatetime.date(1400, 5, 10),
        mobile="09131234567",
        home=_ISFAHAN,
    ),
    Profile(
        water=1,
        electricity=1,
        owes_everywhere=True,
        health_covered=False,
        deeds=1,
        quirks=False,
    ),
)

SHAPES: dict[str, tuple[Identity, Profile]] = {
    PERSONAS["complete"]: COMPLETE,
    PERSONAS["sparse"]: SPARSE,
    PERSONAS["unknown"]: UNKNOWN,
    PERSONAS["deceased"]: DECEASED,
}
