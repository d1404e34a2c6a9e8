"""Fixtures of the security suite: a development gateway, and a production one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway import RunningGateway, running_gateway
from tests.support.signing import SigningKey, production_tokens


def production_settings(keys: Path) -> dict[str, Any]:
    """What production mode needs besides the agency URLs `running_gateway` supplies (a public
    key written into `keys`); the one place to change when production's requirements change."""
    pem = SigningKey.generate("security-suite").write_pem(keys)
    return {
        "mode": "production",
        "tokens": production_tokens(pem_files=[pem]),
        "cache_key_secret": "security-suite-cache-key-" + "k" * 32,
    }


@pytest.fixture
async def gateway() -> AsyncIterator[RunningGateway]:
    async with running_gateway() as gw:
        yield gw


@pytest.fixture
async def production_gateway(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    async with running_gateway(**production_settings(tmp_path)) as gw:
        yield gw
