"""Fields of a citizen answered by the agencies, each declared in one line.

`agency_field(lambda c: c.post.fetch_address, Address, level=2, description=...)` is a whole
field: it loads that agency answer once per request (through the request's loaders, so two
fields needing it share one call and the audit sees it), behind the level's permission, and
returns it as a `Sourced` record; every field below it is a plain attribute of that object.
The resolver is a coroutine, which is what the query cost rule counts as agency-backed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import strawberry
from strawberry.types import Info

from domain.sourced import Sourced
from resolvers import citizen as r
from resolvers.context import GatewayContext
from schema.levels import guard

__all__ = ["agency_field", "citizen_field"]


class _HasCode(Protocol):
    national_code: str


Answer = Callable[[GatewayContext, str], Awaitable[Any]]
"""How a field is answered for the citizen with a national code."""


def citizen_field(answer: Answer, graphql_type: Any, *, level: int, description: str) -> Any:
    """A field answered by `answer` for the citizen it is on, needing `level`."""

    async def resolve(root: _HasCode, info: Info[GatewayContext, None]) -> Any:
        return await answer(info.context, root.national_code)

    return strawberry.field(
        resolver=resolve, graphql_type=graphql_type, **guard(level, description)
    )


def agency_field(
    operation: r.Operation, graphql_type: type, *, level: int, description: str
) -> Any:
    """A nullable field answered by one agency operation (see the module docstring)."""

    async def answer(ctx: GatewayContext, national_code: str) -> Sourced[Any]:
        return Sourced.of(await r.fetch(ctx, operation, national_code))

    return citizen_field(answer, graphql_type | None, level=level, description=description)
