"""Ministry of Education (آموزش و پرورش): a citizen's school diplomas."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import CamelWire, PersianText
from domain.models import EducationRecord

__all__ = ["EducationConnector"]


class DiplomaWire(CamelWire):
    level: Literal["PRIMARY", "MIDDLE", "DIPLOMA", "PRE_UNIVERSITY"]
    field: PersianText
    school: PersianText
    graduation_year: int
    gpa: float | None = Field(default=None, ge=0, le=20)


class DiplomasWire(CamelWire):
    records: list[DiplomaWire]


def _to_domain(wire: DiplomasWire) -> list[EducationRecord]:
    return [
        EducationRecord(
            level=r.level,
            field=r.field,
            school=r.school,
            graduation_year=r.graduation_year,
            gpa=r.gpa,
        )
        for r in wire.records
    ]


class EducationConnector(AgencyConnector):
    """A diploma, once granted, does not change: kept a day, served stale for a month."""

    agency_id = "education"
    name_fa = "آموزش و پرورش"
    name_en = "Education"
    policy = AgencyPolicy(timeout=3.0, fresh_ttl=86_400, stale_ttl=30 * 86_400)

    @operation("diplomas")
    async def fetch_records(
        self, national_code: str, *, deadline: Deadline
    ) -> list[EducationRecord]:
        return await self.get_json(
            f"/medu/api/students/{national_code}/diplomas",
            DiplomasWire,
            _to_domain,
            deadline=deadline,
        )
