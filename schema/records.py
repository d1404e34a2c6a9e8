"""The GraphQL types of agency records, one line each, derived from domain/models.py.

A record an agency answers on its own is a `sourced_type`: its fields and `source`. The records
and enums it holds are derived with it; those that need more (a description, an `extra` field)
are derived here first (see schema/derive.py).
"""

from __future__ import annotations

import strawberry

from domain import models as m
from domain.sourced import Sourced
from schema.derive import object_type, sourced_type

__all__ = [
    "Address",
    "Bill",
    "DeedList",
    "EducationRecords",
    "HealthCoverage",
    "JudicialNotices",
    "License",
    "MilitaryService",
    "MobileCheck",
    "Profile",
    "SocialSecurity",
    "TaxStatus",
    "VehicleList",
]

strawberry.enum(m.BillKind, description="Which kind of payable a bill is.")
strawberry.enum(m.Gender)
strawberry.enum(m.LicenseKind)
strawberry.enum(m.LicenseStatus)
strawberry.enum(m.MobileMatch, description="Shahkar's verdict on a mobile number.")
strawberry.enum(m.MilitaryStatus)


def _unread_count(root: Sourced[list[m.JudicialNotice]]) -> int:
    """Notices not yet read: counted when asked, from the loaded list."""
    return sum(1 for notice in root.items if not notice.read)


object_type(m.Vehicle)
object_type(m.EducationRecord)
object_type(m.Employer)
object_type(m.JudicialNotice)
object_type(m.TaxFiling)
object_type(
    m.PropertyShare,
    description="A share of a property as an exact fraction of the whole; `dang` is the same "
    "share in دانگ, sixths of the property (6: all of it, 2.5: 5/12).",
    extra={"dang": float},
)

Profile = sourced_type(
    m.Person, name="Profile", description="Identity as held by the civil registry."
)
Address = sourced_type(
    m.Address, description="The registered address at the national post company."
)
MobileCheck = sourced_type(
    m.MobileCheck,
    description="Whether a mobile number belongs to the citizen (Shahkar).",
    extra={"matches": bool},
)
Bill = sourced_type(
    m.Bill,
    description="Something the citizen owes, payable by bill ID and payment ID.",
    names={"amount_rial": "amount"},
)
License = sourced_type(
    m.License, description="A license from the national licensing portal or traffic police."
)
VehicleList = sourced_type(
    list[m.Vehicle],
    name="VehicleList",
    description="Vehicles registered to the citizen (traffic police).",
)
EducationRecords = sourced_type(
    list[m.EducationRecord],
    name="EducationRecords",
    description="Diplomas and school records (ministry of education).",
)
SocialSecurity = sourced_type(
    m.SocialSecurityRecord,
    name="SocialSecurity",
    description="Insurance record at the social security organisation.",
)
HealthCoverage = sourced_type(
    m.HealthCoverage, description="Coverage at the health insurance organisation."
)
JudicialNotices = sourced_type(
    list[m.JudicialNotice],
    name="JudicialNotices",
    description="Judicial notices (ابلاغیه) in the SANA system.",
    extra={"unread_count": strawberry.field(resolver=_unread_count)},
)
MilitaryService = sourced_type(
    m.MilitaryServiceRecord,
    name="MilitaryService",
    description="Military service status (نظام وظیفه).",
)
DeedList = sourced_type(
    list[m.Deed],
    name="DeedList",
    description="Property deeds (سند) held by the land registry, oldest first.",
)
TaxStatus = sourced_type(
    m.TaxRecord,
    name="TaxStatus",
    description="Taxpayer status and filings (tax administration).",
    exclude=("debts",),
)
