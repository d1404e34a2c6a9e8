"""Health coverage, school records, judicial notices and military-service status."""

from __future__ import annotations

import random

from sandbox.jalali import TODAY, days_from_today, safe_date
from sandbox.records import Coverage, EducationRecord, MilitaryRecord, Notice
from sandbox.spelling import persian_digits
from sandbox.synth.billing import digits
from sandbox.vocabulary import COURT_KINDS, DIPLOMA_FIELDS, HEALTH_PLANS, NOTICE_TITLES, SCHOOLS

_LEVELS = (("PRIMARY", 12), ("MIDDLE", 15), ("DIPLOMA", 18), ("PRE_UNIVERSITY", 19))


def coverage(rng: random.Random, covered: bool) -> Coverage:
    """Covered citizens have a plan valid to the end of this or next Jalali year."""
    if not covered:
        return Coverage(False, None, None)
    until = safe_date(TODAY.year + rng.randint(0, 1), 12, 30)
    return Coverage(True, rng.choice(HEALTH_PLANS), until)


def education(rng: random.Random, birth_year: int, levels: int) -> tuple[EducationRecord, ...]:
    """Completed school levels, oldest first; none graduating after the sandbox's today."""
    field = rng.choice(DIPLOMA_FIELDS)
    records = []
    for level, age in _LEVELS[:levels]:
        year = birth_year + age
        if year >= TODAY.year:
            break
        records.append(
            EducationRecord(
                level=level,
                field=field if level in {"DIPLOMA", "PRE_UNIVERSITY"} else "عمومی",
                school=rng.choice(SCHOOLS[level]),
                graduation_year=year,
                gpa=round(rng.uniform(12, 20), 2),
            )
        )
    return tuple(records)


def notices(rng: random.Random, city: str, count: int) -> tuple[Notice, ...]:
    """SANA notices, newest first; the newest are the ones still unread."""
    drafts = []
    for _ in range(count):
        issued = days_from_today(-rng.randint(1, 700))
        court = f"شعبه {persian_digits(str(rng.randint(1, 120)))} {rng.choice(COURT_KINDS)} {city}"
        drafts.append((issued, f"{issued.year}{digits(rng, 8)}", court))
    drafts.sort(reverse=True)
    return tuple(
        Notice(
            notice_id,
            rng.choice(NOTICE_TITLES),
            court,
            issued,
            read=index > 0 and rng.random() < 0.7,
        )
        for index, (issued, notice_id, court) in enumerate(drafts)
    )


def military(rng: random.Random, status: str, birth_year: int) -> MilitaryRecord:
    """Completion and exemption cards carry a number and a date; other statuses do not."""
    if status not in {"COMPLETED", "EXEMPT"}:
        return MilitaryRecord(status, None, None)
    year = min(birth_year + rng.randint(20, 23), TODAY.year - 1)
    return MilitaryRecord(
        status, digits(rng, 7), safe_date(year, rng.randint(1, 12), rng.randint(1, 29))
    )
