"""Judiciary (قوه قضاییه، ثنا): judicial notices served to a citizen's SANA account."""

from __future__ import annotations

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import AsciiDigits, CamelWire, JalaliDate, PersianText
from domain.models import JudicialNotice

__all__ = ["JudiciaryConnector"]


class NoticeWire(CamelWire):
    notice_id: AsciiDigits
    title: PersianText
    court: PersianText
    issued_at: JalaliDate
    read: bool


class NoticesWire(CamelWire):
    notices: list[NoticeWire]


def _to_domain(wire: NoticesWire) -> list[JudicialNotice]:
    return [
        JudicialNotice(
            notice_id=n.notice_id,
            title=n.title,
            court=n.court,
            issued_at=n.issued_at,
            read=n.read,
        )
        for n in wire.notices
    ]


class JudiciaryConnector(AgencyConnector):
    """A new notice can start a legal deadline, so notices are fresh for ten minutes only; stale
    for a day while SANA is down."""

    agency_id = "judiciary"
    name_fa = "قوه قضاییه"
    name_en = "Judiciary"
    policy = AgencyPolicy(timeout=3.0, fresh_ttl=600, stale_ttl=86_400)

    @operation("notices")
    async def fetch_notices(
        self, national_code: str, *, deadline: Deadline
    ) -> list[JudicialNotice]:
        return await self.get_json(
            "/sana/api/notices",
            NoticesWire,
            _to_domain,
            params={"nationalCode": national_code},
            deadline=deadline,
        )
