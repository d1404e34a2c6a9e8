"""Probe settings: a timeout that keeps a probe within its lease, and probes on in production."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from observability.probe_settings import ProbeSettings
from server import configuration_errors
from settings import Settings


def test_a_probe_timeout_beyond_half_the_interval_is_refused() -> None:
    """The lease lives 0.8 interval: a probe allowed the whole interval could outlive it, and
    a second instance would probe and judge the same agency at the same time."""
    with pytest.raises(ValidationError) as caught:
        ProbeSettings(interval_s=0.25, timeout_s=0.25)
    assert "must be at most half of probes.interval_s" in configuration_errors(caught.value)
    assert ProbeSettings(interval_s=0.25, timeout_s=0.125).timeout_s == 0.125


PRODUCTION: dict[str, Any] = {
    "mode": "production",
    "agency_urls": {"post": "http://post.test"},
    "cache_key_secret": "k",
    "tokens": {
        "jwks_url": "https://sso.test/jwks",
        "service_jwks_url": "https://sso.test/clients/jwks",
        "issuers": ["https://sso.test"],
        "service_issuers": ["https://sso.test/clients"],
    },
    "audit": {"path": "/tmp/audit.jsonl", "key_secret": "a" * 32},
}


def test_production_refuses_to_start_with_probes_disabled() -> None:
    """Without probes nothing judges an agency: every one would show UP forever."""
    with pytest.raises(ValidationError) as caught:
        Settings(**PRODUCTION, probes={"enabled": False})
    assert "PANJEREH_PROBES__ENABLED" in configuration_errors(caught.value)
    assert Settings(**PRODUCTION).probes.enabled
    assert not Settings(probes={"enabled": False}).probes.enabled  # development may
