"""Conscription organisation (نظام وظیفه): a citizen's military service status."""

from __future__ import annotations

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import AsciiDigits, CamelWire, JalaliDate
from domain.models import MilitaryServiceRecord, MilitaryStatus

__all__ = ["MilitaryServiceConnector"]


class MilitaryStatusWire(CamelWire):
    status: MilitaryStatus
    card_number: AsciiDigits | None
    issued_at: JalaliDate | None


def _to_domain(wire: MilitaryStatusWire) -> MilitaryServiceRecord:
    return MilitaryServiceRecord(
        status=wire.status, card_number=wire.card_number, issued_at=wire.issued_at
    )


class MilitaryServiceConnector(AgencyConnector):
    """Service status changes by months (deferrals, completion): six hours fresh, three days
    stale."""

    agency_id = "military-service"
    name_fa = "نظام وظیفه"
    name_en = "Military Service"
    policy = AgencyPolicy(timeout=2.0, fresh_ttl=6 * 3600, stale_ttl=3 * 86_400)

    @operation("service-status")
    async def fetch_status(
        self, national_code: str, *, deadline: Deadline
    ) -> MilitaryServiceRecord:
        return await self.get_json(
            f"/nezam/api/status/{national_code}", MilitaryStatusWire, _to_domain, deadline=deadline
        )
