"""National licensing portal (درگاه ملی مجوزها): a citizen's business licenses."""

from __future__ import annotations

from typing import Literal

from connectors.pipeline.base import AgencyConnector, operation
from connectors.pipeline.deadline import Deadline
from connectors.pipeline.policy import AgencyPolicy
from connectors.wire import AsciiDigits, CamelWire, JalaliDate, PersianText
from domain.models import License, LicenseKind, LicenseStatus

__all__ = ["LicensingPortalConnector"]


class LicenseWire(CamelWire):
    """One license; its text fields may spell ی/ک with the Arabic letters."""

    license_no: AsciiDigits
    title: PersianText
    issuer: PersianText
    issue_date: JalaliDate
    expiry_date: JalaliDate | None
    status: Literal["ACTIVE", "EXPIRED", "REVOKED"]
    holder_name: PersianText


class LicensesWire(CamelWire):
    licenses: list[LicenseWire]


def _to_domain(wire: LicensesWire) -> list[License]:
    return [
        License(
            kind=LicenseKind.BUSINESS,
            number=lic.license_no,
            title=lic.title,
            issuer=lic.issuer,
            status=LicenseStatus(lic.status),
            issued_at=lic.issue_date,
            expires_at=lic.expiry_date,
            holder_name=lic.holder_name,
        )
        for lic in wire.licenses
    ]


class LicensingPortalConnector(AgencyConnector):
    """Licenses are records that change by an application, not by the hour: six hours fresh,
    three days stale."""

    agency_id = "licensing-portal"
    name_fa = "درگاه ملی مجوزها"
    name_en = "National Licensing Portal"
    policy = AgencyPolicy(timeout=3.0, fresh_ttl=6 * 3600, stale_ttl=3 * 86_400)

    @operation("licenses")
    async def fetch_licenses(self, national_code: str, *, deadline: Deadline) -> list[License]:
        return await self.get_json(
            "/api/v1/licenses",
            LicensesWire,
            _to_domain,
            params={"nationalCode": national_code},
            deadline=deadline,
        )
