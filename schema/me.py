"""`me`: the citizen of the token, with what only they may see about their own data.

`Me` implements `Citizen` and adds `accessLog`. It is a type of its own so that `citizen(...)`,
which services call (a `ServedCitizen`), has no `accessLog` field at all: no query a service can
write reaches it, while fragments on the `Citizen` interface fit both.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.access_log import access_log
from resolvers.context import GatewayContext
from schema.access_log import AccessLog
from schema.citizen import Citizen
from schema.levels import guard

__all__ = ["Me"]


@strawberry.type(description="The citizen of the bearer token.")
class Me(Citizen):
    @strawberry.field(
        **guard(
            2,
            "Reads of your data by services and caseworkers (who, when, why, which agencies), "
            "newest first. Your own reads are not listed.",
        )
    )
    async def access_log(
        self, info: Info[GatewayContext, None], first: int = 20, after: str | None = None
    ) -> AccessLog | None:
        return AccessLog.of(await access_log(info.context, self.national_code, first, after))
