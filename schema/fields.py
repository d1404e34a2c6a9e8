"""Fields of a citizen answered by the agencies, each declared in one line.

`agency_field(lambda c: c.post.fetch_address, Address, level=2, description=...)` is a whole
field: it loads that agency answer once per request (through the request's loaders, so two
fields needing it share one call and the audit sees it), behind the level's permission, and
returns it as a `Sourced` record; every field below it is a plain attribute of that object.
An agency's "no record" is not an error: the field is null (a record) or an empty list with its
source (a sourced list), and `Citizen.sources` says EMPTY for that agency.
The resolver is a coroutine, which is what the query cost rule counts as agency-backed.

Each field also carries, in its metadata (`LOOKUPS`), which lookups it makes, so that
`Citizen.sources` (schema/sources.py) can tell which agencies the query asked about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import strawberry
from strawberry.types import Info

from domain.errors import AgencyNotFound
from domain.sourced import Source, Sourced
from resolvers import citizen as r
from resolvers.context import GatewayContext
from schema.derive import is_sourced_list
from schema.levels import guard

__all__ = ["LOOKUPS", "absent", "agency_field", "citizen_field"]

LOOKUPS = "panjereh.lookups"
"""Key of a field's metadata holding its `resolvers.citizen.LookupsOf`."""


class _HasCode(Protocol):
    national_code: str


Answer = Callable[[GatewayContext, str], Awaitable[Any]]
"""How a field is answered for the citizen with a national code."""


def citizen_field(
    answer: Answer,
    graphql_type: Any,
    *,
    level: int,
    description: str,
    lookups: r.LookupsOf | None = None,
) -> Any:
    """A field answered by `answer` for the citizen it is on, needing `level`, making
    `lookups`."""

    async def resolve(root: _HasCode, info: Info[GatewayContext, None]) -> Any:
        return await answer(info.context, root.national_code)

    return strawberry.field(
        resolver=resolve,
        graphql_type=graphql_type,
        metadata={LOOKUPS: lookups} if lookups is not None else None,
        **guard(level, description),
    )


def agency_field(
    operation: r.Operation, graphql_type: type, *, level: int, description: str
) -> Any:
    """A nullable field answered by one agency operation (see the module docstring)."""
    many = is_sourced_list(graphql_type)

    async def answer(ctx: GatewayContext, national_code: str) -> Sourced[Any] | None:
        try:
            return Sourced.of(await r.fetch(ctx, operation, national_code))
        except AgencyNotFound as exc:
            return absent(exc, many=many)

    return citizen_field(
        answer,
        graphql_type | None,
        level=level,
        description=f"{description} {_ABSENT_LIST if many else _ABSENT_RECORD}",
        lookups=r.operation_lookups(operation),
    )


def absent(exc: AgencyNotFound, *, many: bool) -> Sourced[Any] | None:
    """What an agency's "no record" is shown as: an empty list with its source, or null."""
    if not many:
        return None
    return Sourced((), exc.source or Source(exc.agency, dt.datetime.now(dt.UTC)))


_ABSENT_RECORD = (
    "Null when the agency holds no record (no error; `sources` says EMPTY) or when it could not "
    "be had (with an error)."
)
_ABSENT_LIST = (
    "`items` is empty when the agency holds none (no error; `sources` says EMPTY); null when it "
    "could not be had (with an error)."
)
