"""`me { accessLog }`: the caller's own access log, from the audit index, never anyone else's.

The subject is always the verified caller (the national code `me` resolved from the token), so
no argument can point it elsewhere; only reads by service clients are in the index.
"""

from __future__ import annotations

from domain.errors import AgencyUnavailable, InvalidInput
from observability.access_index import AccessPage
from resolvers.context import GatewayContext

__all__ = ["MAX_PAGE", "access_log"]

MAX_PAGE = 100


async def access_log(
    ctx: GatewayContext, national_code: str, first: int, after: str | None
) -> AccessPage:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput("first", f"`first` must be between 1 and {MAX_PAGE}")
    auditor = ctx.audit.auditor
    if auditor is None:
        raise AgencyUnavailable("audit-log", "the access log is not kept on this server")
    return await auditor.index.page(auditor.hash_of(national_code), first, after)
