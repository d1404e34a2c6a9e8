"""The citizen and their records: thin GraphQL types whose fields call `resolvers.citizen`."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import citizen as r
from resolvers.context import GatewayContext
from schema import types as t
from schema.aggregates import BillList, LicenseList
from schema.levels import guarded

__all__ = ["Citizen", "Records", "ServedCitizen"]

Ctx = Info[GatewayContext, None]


@strawberry.type(description="Records held about the citizen by several agencies.")
class Records:
    national_code: strawberry.Private[str]

    @strawberry.field(
        **guarded("Records.vehicles", "Vehicles registered to the citizen (traffic police).")
    )
    async def vehicles(self, info: Ctx) -> t.VehicleList | None:
        return await r.vehicles(info.context, self.national_code)

    @strawberry.field(**guarded("Records.education", "School records and diplomas (education)."))
    async def education(self, info: Ctx) -> t.EducationRecords | None:
        return await r.education(info.context, self.national_code)

    @strawberry.field(**guarded("Records.socialSecurity", "Insurance record (social security)."))
    async def social_security(self, info: Ctx) -> t.SocialSecurity | None:
        return await r.social_security(info.context, self.national_code)

    @strawberry.field(**guarded("Records.healthInsurance", "Health insurance coverage."))
    async def health_insurance(self, info: Ctx) -> t.HealthCoverage | None:
        return await r.health_insurance(info.context, self.national_code)

    @strawberry.field(**guarded("Records.judicialNotices", "Judicial notices (judiciary, SANA)."))
    async def judicial_notices(self, info: Ctx) -> t.JudicialNotices | None:
        return await r.judicial_notices(info.context, self.national_code)

    @strawberry.field(**guarded("Records.militaryService", "Military service status."))
    async def military_service(self, info: Ctx) -> t.MilitaryService | None:
        return await r.military_service(info.context, self.national_code)

    @strawberry.field(**guarded("Records.tax", "Taxpayer status and filings."))
    async def tax(self, info: Ctx) -> t.TaxStatus | None:
        return await r.tax_filings(info.context, self.national_code)


@strawberry.interface(
    description="A citizen, by national code; every agency-backed field may fail alone. `me` is "
    "a `Me` and `citizen(...)` a `ServedCitizen`: fragments on `Citizen` fit both."
)
class Citizen:
    national_code: str

    @strawberry.field(**guarded("Citizen.profile", "Identity from the civil registry."))
    async def profile(self, info: Ctx) -> t.Profile | None:
        return await r.profile(info.context, self.national_code)

    @strawberry.field(**guarded("Citizen.address", "Registered address from the post company."))
    async def address(self, info: Ctx) -> t.Address | None:
        return await r.address(info.context, self.national_code)

    @strawberry.field(
        **guarded(
            "Citizen.mobileCheck",
            "Whether `mobile` belongs to this citizen (Shahkar). Accepts 09…, +98…, "
            "Persian or Arabic digits.",
        )
    )
    async def mobile_check(self, info: Ctx, mobile: str) -> t.MobileCheck | None:
        return await r.mobile_check(info.context, self.national_code, mobile)

    @strawberry.field(
        **guarded("Citizen.bills", "Bills from utilities, traffic fines and tax debts.")
    )
    async def bills(self, info: Ctx) -> BillList:
        return await r.bills(info.context, self.national_code)

    @strawberry.field(**guarded("Citizen.licenses", "Business licenses and the driving license."))
    async def licenses(self, info: Ctx) -> LicenseList:
        return await r.licenses(info.context, self.national_code)

    @strawberry.field(description="Records held by other agencies.")
    def records(self) -> Records:
        return Records(national_code=self.national_code)


@strawberry.type(description="A citizen read by a service client, with a stated purpose.")
class ServedCitizen(Citizen):
    pass
