"""The root Subscription type: ops follow agency states over graphql-transport-ws."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry
from strawberry.types import Info

from resolvers import ops
from resolvers.context import GatewayContext
from schema.agency_health import AgencyStateChange

__all__ = ["Subscription"]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each change of an agency's state (of `agency`, or of every agency), as "
        "the fleet judges it (ops scope)."
    )
    async def agency_state_changed(
        self, info: Info[GatewayContext, None], agency: str | None = None
    ) -> AsyncIterator[AgencyStateChange]:
        async for change in ops.state_changes(info.context, agency):
            yield AgencyStateChange.of(change)
