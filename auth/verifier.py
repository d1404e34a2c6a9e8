"""The app's one token verifier, built from settings, with the HTTP session its JWKS need.

Citizen and service tokens may each have a JWKS (`jwks_url`, `service_jwks_url`); when both name
the same URL one source serves both groups, so the provider is fetched once, not twice.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
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
    """A verifier for the app's lifetime; each JWKS is fetched once at start (a failure is
    logged, not fatal: the identity provider may come up after the gateway), then refreshed
    in the background (`auth/jwks.py`); a refresh in flight is cancelled at the end."""
    trust = settings.tokens
    urls = {url for url in (trust.jwks_url, trust.service_jwks_url) if url is not None}
    if not urls:
        yield TokenVerifier.from_settings(settings)
        return
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession(raise_for_status=False))
        sources: dict[str, JwksSource] = {}
        for url in sorted(urls):
            source = JwksSource(
                fetch_jwks(session, url, timeout_s=trust.jwks_timeout_s),
                cache_s=trust.jwks_cache_s,
                min_refresh_s=trust.jwks_min_refresh_s,
            )
            stack.push_async_callback(source.aclose)  # before the session closes
            sources[url] = source
            if not (await source.keys()).by_kid:
                log.warning("no usable key in a JWKS yet; its tokens are refused until it has one")
        yield TokenVerifier.from_settings(
            settings,
            citizen_jwks=sources.get(trust.jwks_url or ""),
            service_jwks=sources.get(trust.service_jwks_url or ""),
        )
