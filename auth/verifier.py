"""The app's one token verifier, built from settings, with the HTTP session its JWKS needs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import aiohttp

from auth.jwks import JwksSource, fetch_jwks
from auth.tokens import TokenVerifier

if TYPE_CHECKING:
    from settings import Settings

__all__ = ["token_verifier"]

log = logging.getLogger("panjereh.auth")


@asynccontextmanager
async def token_verifier(settings: Settings) -> AsyncIterator[TokenVerifier]:
    """A verifier for the app's lifetime; with a JWKS URL, its key set is fetched once at start
    (a failure is logged, not fatal: the identity provider may come up after the gateway)."""
    trust = settings.tokens
    if trust.jwks_url is None:
        yield TokenVerifier.from_settings(settings)
        return
    async with aiohttp.ClientSession(raise_for_status=False) as session:
        source = JwksSource(
            fetch_jwks(session, trust.jwks_url, timeout_s=trust.jwks_timeout_s),
            cache_s=trust.jwks_cache_s,
            min_refresh_s=trust.jwks_min_refresh_s,
        )
        keys = await source.keys()
        if not keys.by_kid:
            log.warning("no usable key in the JWKS yet; tokens are refused until it has one")
        yield TokenVerifier.from_settings(settings, jwks=source)
