"""Fixtures of the security suite: a development gateway, and a production one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.gateway import RunningGateway, running_gateway


def production_settings() -> dict[str, Any]:
    """What production mode needs besides the agency URLs `running_gateway` supplies; the one
    place to change when production's requirements change."""
    return {
        "mode": "production",
        "jwt_secret": "security-suite-secret-" + "s" * 32,
        "cache_key_secret": "security-suite-cache-key-" + "k" * 32,
    }


@pytest.fixture
async def gateway() -> AsyncIterator[RunningGateway]:
    async with running_gateway() as gw:
        yield gw


@pytest.fixture
async def production_gateway() -> AsyncIterator[RunningGateway]:
    async with running_gateway(**production_settings()) as gw:
        yield gw
