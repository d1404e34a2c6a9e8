"""Every agency connector of the gateway, built once per app from the agencies' base URLs.

Adding an agency is one connector module, one line in `Connectors` and its id in the sandbox.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from cache.store import CacheStore
from connectors.base import AgencyConnector
from connectors.civil_registry import CivilRegistryConnector
from connectors.education import EducationConnector
from connectors.electricity import ElectricityConnector
from connectors.gas import GasConnector
from connectors.health_insurance import HealthInsuranceConnector
from connectors.judiciary import JudiciaryConnector
from connectors.licensing_portal import LicensingPortalConnector
from connectors.military_service import MilitaryServiceConnector
from connectors.policy import AgencyPolicy
from connectors.post import PostConnector
from connectors.shahkar import ShahkarConnector
from connectors.social_security import SocialSecurityConnector
from connectors.tax import TaxConnector
from connectors.telecom import TelecomConnector
from connectors.traffic_police import TrafficPoliceConnector
from connectors.water import WaterConnector
from observability.metrics import Metrics

__all__ = ["Connectors", "build_connectors"]


@dataclass(frozen=True)
class Connectors:
    """One connector per agency, by attribute (for resolvers) and by agency id (for ops)."""

    civil_registry: CivilRegistryConnector
    post: PostConnector
    shahkar: ShahkarConnector
    water: WaterConnector
    electricity: ElectricityConnector
    gas: GasConnector
    telecom: TelecomConnector
    traffic_police: TrafficPoliceConnector
    tax: TaxConnector
    licensing_portal: LicensingPortalConnector
    social_security: SocialSecurityConnector
    health_insurance: HealthInsuranceConnector
    education: EducationConnector
    judiciary: JudiciaryConnector
    military_service: MilitaryServiceConnector

    def __iter__(self) -> Iterator[AgencyConnector]:
        return (getattr(self, f.name) for f in dataclasses.fields(self))

    def by_id(self, agency_id: str) -> AgencyConnector:
        for connector in self:
            if connector.agency_id == agency_id:
                return connector
        raise KeyError(agency_id)


def connector_types() -> dict[str, type[AgencyConnector]]:
    """Agency id → connector class, in the order of `Connectors`."""
    hints = {f.name: f.type for f in dataclasses.fields(Connectors)}
    classes = [globals()[str(t)] for t in hints.values()]
    return {cls.agency_id: cls for cls in classes}


AGENCY_IDS: tuple[str, ...] = tuple(connector_types())


def build_connectors(
    base_urls: Mapping[str, str],
    *,
    session: aiohttp.ClientSession,
    cache: CacheStore,
    metrics: Metrics,
    policies: Mapping[str, AgencyPolicy] | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
) -> Connectors:
    """Instantiate every connector; a missing base URL is a configuration error, said at once."""
    missing = [a for a in AGENCY_IDS if a not in base_urls]
    if missing:
        raise ValueError(f"no base URL configured for agencies: {', '.join(missing)}")
    policies = policies or {}
    extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    built = {}
    for field in dataclasses.fields(Connectors):
        cls = globals()[str(field.type)]
        built[field.name] = cls(
            base_url=base_urls[cls.agency_id],
            session=session,
            cache=cache,
            metrics=metrics,
            policy=policies.get(cls.agency_id),
            **extra,
        )
    metrics.declare_agencies(list(AGENCY_IDS))
    return Connectors(**built)
