"""Social Security Organization (تامین اجتماعی): a citizen's insurance record and employers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import AsciiDigits, CamelWire, JalaliDate, PersianText
from domain.models import Employer, SocialSecurityRecord

__all__ = ["SocialSecurityConnector"]


class EmployerWire(CamelWire):
    name: PersianText
    workshop_code: AsciiDigits
    start: JalaliDate = Field(alias="from")
    end: JalaliDate | None = Field(alias="to")


class InsuredWire(CamelWire):
    insurance_no: AsciiDigits
    status: Literal["ACTIVE", "INACTIVE", "RETIRED"]
    contribution_months: int = Field(ge=0)
    employers: list[EmployerWire]


def _to_domain(wire: InsuredWire) -> SocialSecurityRecord:
    return SocialSecurityRecord(
        insurance_no=wire.insurance_no,
        status=wire.status,
        contribution_months=wire.contribution_months,
        employers=[
            Employer(name=e.name, workshop_code=e.workshop_code, start=e.start, end=e.end)
            for e in wire.employers
        ],
    )


class SocialSecurityConnector(AgencyConnector):
    """Contributions are booked monthly: the record is kept six hours and served stale for three
    days."""

    agency_id = "social-security"
    name_fa = "تامین اجتماعی"
    name_en = "Social Security Organization"
    policy = AgencyPolicy(timeout=3.0, fresh_ttl=6 * 3600, stale_ttl=3 * 86_400)

    @operation("insurance-record")
    async def fetch_record(self, national_code: str, *, deadline: Deadline) -> SocialSecurityRecord:
        return await self.get_json(
            f"/tamin/api/insured/{national_code}", InsuredWire, _to_domain, deadline=deadline
        )
