"""The credentials of one long-lived connection (a GraphQL WebSocket).

    connect ──verify──▶ principal, timer set for the token's `exp`
    each operation ──▶ expired? UNAUTHENTICATED ; else re-verify (key still trusted, claims valid)
    `exp` reached ──▶ `on_expiry()` (the WebSocket closes with 4401)
    connection over ──▶ `close()` cancels the timer

A token is checked once per operation, not once per connection, so an expired or revoked key
stops a connection's reads; and the connection never outlives the token it was opened with.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from auth.principal import Principal
from auth.tokens import TokenVerifier
from domain.errors import Unauthenticated

__all__ = ["ConnectionAuth", "bearer_token"]


def bearer_token(value: object) -> str | None:
    """The token of an `Authorization: Bearer …` value; `Unauthenticated` for another scheme."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Unauthenticated(
            "the Authorization value must be `Bearer <token>`", reason="malformed"
        )
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "the Authorization value must be `Bearer <token>`", reason="malformed"
        )
    return token.strip()


class ConnectionAuth:
    """Verifies a connection's token at connect and before every operation; fires at expiry."""

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        on_expiry: Callable[[], Awaitable[object]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verifier = verifier
        self._on_expiry = on_expiry
        self._clock = clock
        self._token: str | None = None
        self._expires_at: float | None = None
        self._timer: asyncio.Task[None] | None = None

    async def accept(self, token: str | None) -> Principal | None:
        """Verify the connection's token (None: anonymous) and arm the expiry timer."""
        if token is None:
            return None
        principal = await self._verifier.verify(token)
        self._token = token
        self._expires_at = principal.expires_at
        if self._expires_at is not None:
            self._timer = asyncio.create_task(self._expire(self._expires_at))
        return principal

    async def principal(self) -> Principal | None:
        """The principal for one operation: the token verified again, or `Unauthenticated`."""
        if self._token is None:
            return None
        if self._expires_at is not None and not self._clock() < self._expires_at:
            # `not <`: NaN is expired
            raise Unauthenticated("the bearer token has expired", reason="expired")
        return await self._verifier.verify(self._token)

    async def close(self) -> None:
        """Cancel the expiry timer: the connection is over."""
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer

    async def _expire(self, expires_at: float) -> None:
        delay = expires_at - self._clock()
        await asyncio.sleep(delay if delay > 0 else 0.0)  # NaN (never from the verifier): now
        await self._on_expiry()
