"""Iran Health Insurance Organization (بیمه سلامت): whether and how a citizen is covered."""

from __future__ import annotations

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import CamelWire, JalaliDate, PersianText
from domain.models import HealthCoverage

__all__ = ["HealthInsuranceConnector"]


class CoverageWire(CamelWire):
    covered: bool
    plan: PersianText | None
    valid_until: JalaliDate | None


def _to_domain(wire: CoverageWire) -> HealthCoverage:
    if not wire.covered and (wire.plan is not None or wire.valid_until is not None):
        raise ValueError("a plan or end date for someone who is not covered")
    return HealthCoverage(covered=wire.covered, plan=wire.plan, valid_until=wire.valid_until)


class HealthInsuranceConnector(AgencyConnector):
    """Coverage changes by yearly renewal: six hours fresh, three days stale."""

    agency_id = "health-insurance"
    name_fa = "بیمه سلامت"
    name_en = "Health Insurance"
    policy = AgencyPolicy(timeout=2.0, fresh_ttl=6 * 3600, stale_ttl=3 * 86_400)

    @operation("coverage")
    async def fetch_coverage(self, national_code: str, *, deadline: Deadline) -> HealthCoverage:
        return await self.get_json(
            "/salamat/coverage",
            CoverageWire,
            _to_domain,
            params={"nationalCode": national_code},
            deadline=deadline,
        )
