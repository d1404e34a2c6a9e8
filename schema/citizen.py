"""The citizen and their records: one line per agency-backed field (schema/fields.py), and
`sources`, every agency's state for this answer (schema/sources.py)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.errors import AgencyNotFound
from domain.sourced import Sourced
from resolvers import citizen as r
from resolvers.context import GatewayContext
from schema import records as t
from schema.aggregates import BillList, LicenseList, SourceStatus
from schema.fields import LOOKUPS, absent, agency_field, citizen_field
from schema.levels import guard
from schema.sources import selected_lookups

__all__ = ["Citizen", "Records", "ServedCitizen"]


@strawberry.type(description="Records held about the citizen by several agencies.")
class Records:
    national_code: strawberry.Private[str]

    vehicles = agency_field(
        lambda c: c.traffic_police.fetch_vehicles,
        t.VehicleList,
        level=2,
        description="Vehicles registered to the citizen (traffic police).",
    )
    education = agency_field(
        lambda c: c.education.fetch_records,
        t.EducationRecords,
        level=2,
        description="School records and diplomas (education).",
    )
    social_security = agency_field(
        lambda c: c.social_security.fetch_record,
        t.SocialSecurity,
        level=3,
        description="Insurance record (social security).",
    )
    health_insurance = agency_field(
        lambda c: c.health_insurance.fetch_coverage,
        t.HealthCoverage,
        level=3,
        description="Health insurance coverage.",
    )
    judicial_notices = agency_field(
        lambda c: c.judiciary.fetch_notices,
        t.JudicialNotices,
        level=3,
        description="Judicial notices (judiciary, SANA).",
    )
    military_service = agency_field(
        lambda c: c.military_service.fetch_status,
        t.MilitaryService,
        level=2,
        description="Military service status.",
    )
    tax = agency_field(
        lambda c: c.tax.fetch_tax_record,
        t.TaxStatus,
        level=3,
        description="Taxpayer status and filings.",
    )
    deeds = agency_field(
        lambda c: c.land_registry.fetch_deeds,
        t.DeedList,
        level=3,
        description="Property deeds (land registry).",
    )


@strawberry.interface(
    description="A citizen, by national code; every agency-backed field may fail alone, and "
    "`sources` says, per agency, whether it answered, had nothing, was stale or failed. `me` is "
    "a `Me` and `citizen(...)` a `ServedCitizen`: fragments on `Citizen` fit both."
)
class Citizen:
    national_code: str

    profile = agency_field(
        lambda c: c.civil_registry.fetch_person,
        t.Profile,
        level=2,
        description="Identity from the civil registry.",
    )
    address = agency_field(
        lambda c: c.post.fetch_address,
        t.Address,
        level=2,
        description="Registered address from the post company.",
    )

    @strawberry.field(
        metadata={LOOKUPS: r.mobile_lookups},
        **guard(
            2,
            "Whether `mobile` belongs to this citizen (Shahkar). Accepts 09…, +98…, "
            "Persian or Arabic digits.",
        ),
    )
    async def mobile_check(
        self, info: Info[GatewayContext, None], mobile: str
    ) -> t.MobileCheck | None:  # type: ignore[valid-type]
        try:
            return Sourced.of(await r.mobile_check(info.context, self.national_code, mobile))
        except AgencyNotFound as exc:
            return absent(exc, many=False)

    bills = citizen_field(
        r.bills,
        BillList,
        level=1,
        description="Bills from utilities, traffic fines and tax debts.",
        lookups=r.BILL_LOOKUPS,
    )
    licenses = citizen_field(
        r.licenses,
        LicenseList,
        level=1,
        description="Business licenses and the driving license.",
        lookups=r.LICENSE_LOOKUPS,
    )

    @strawberry.field(description="Records held by other agencies.")
    def records(self) -> Records:
        return Records(national_code=self.national_code)

    @strawberry.field(
        description="Every agency this query asked about the citizen, once each, and what its "
        "part of the answer came to: OK (data), EMPTY (it holds nothing: its fields are null "
        "or empty lists, with no error), STALE (a cached copy: its age, and why in `error`) or "
        "UNAVAILABLE (nothing could be had: why in `error`; the fields that needed it are null "
        "with an error, or, in `bills` and `licenses`, their part says so). The agencies are "
        "those of the fields selected beside `sources` that the caller's level may read, in "
        'the agencies\' registry order. This is where a client tells "none" from "unknown". '
        "Null only for a fault of ours (with an INTERNAL error)."
    )
    async def sources(self, info: Info[GatewayContext, None]) -> list[SourceStatus] | None:  # type: ignore[valid-type]
        return await r.sources(info.context, selected_lookups(info, self.national_code))


@strawberry.type(description="A citizen read by a service client, with a stated purpose.")
class ServedCitizen(Citizen):
    pass
