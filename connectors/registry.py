"""Every agency connector of the gateway, built once per app from the agencies' base URLs.

Adding an agency is one connector module in `connectors/agencies/`, one line in `Connectors`
and its id in the sandbox.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cache.store import CacheStore
from connectors.agencies.civil_registry import CivilRegistryConnector
from connectors.agencies.education import EducationConnector
from connectors.agencies.electricity import ElectricityConnector
from connectors.agencies.gas import GasConnector
from connectors.agencies.health_insurance import HealthInsuranceConnector
from connectors.agencies.judiciary import JudiciaryConnector
from connectors.agencies.land_registry import LandRegistryConnector
from connectors.agencies.licensing_portal import LicensingPortalConnector
from connectors.agencies.military_service import MilitaryServiceConnector
from connectors.agencies.post import PostConnector
from connectors.agencies.shahkar import ShahkarConnector
from connectors.agencies.social_security import SocialSecurityConnector
from connectors.agencies.tax import TaxConnector
from connectors.agencies.telecom import TelecomConnector
from connectors.agencies.traffic_police import TrafficPoliceConnector
from connectors.agencies.water import WaterConnector
from connectors.pipeline.base import AgencyConnector, MaintenanceView
from connectors.pipeline.recent import RecentLimits
from connectors.pipeline.transport import Transport
from domain.agencies import AgencyNames, record_names
from observability.agency_health.model import HealthBook
from observability.metrics import Metrics

__all__ = ["AGENCY_IDS", "CONNECTOR_CLASSES", "Connectors", "build_connectors"]


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
    land_registry: LandRegistryConnector

    def __iter__(self) -> Iterator[AgencyConnector]:
        return (getattr(self, f.name) for f in dataclasses.fields(self))

    def by_id(self, agency_id: str) -> AgencyConnector:
        for connector in self:
            if connector.agency_id == agency_id:
                return connector
        raise KeyError(agency_id)


_CLASSES: dict[str, type[AgencyConnector]] = typing.get_type_hints(Connectors)
CONNECTOR_CLASSES: dict[str, type[AgencyConnector]] = {
    cls.agency_id: cls for cls in _CLASSES.values()
}
"""Agency id → connector class, in the order of `Connectors`."""
AGENCY_IDS: tuple[str, ...] = tuple(CONNECTOR_CLASSES)
record_names({id_: AgencyNames(c.name_fa, c.name_en) for id_, c in CONNECTOR_CLASSES.items()})


def build_connectors(
    base_urls: Mapping[str, str],
    *,
    transport: Transport,
    cache: CacheStore,
    metrics: Metrics,
    policy_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
    maintenance: MaintenanceView | None = None,
    recent: RecentLimits | None = None,
    health: HealthBook | None = None,
) -> Connectors:
    """Instantiate every connector; a missing base URL or an unknown agency in the overrides is
    a configuration error, said at once. `maintenance` (the calendar) keeps agencies in a window
    from being called; `recent` bounds the record of operations the pre-window refresh re-runs;
    each connector records its attempts in `health`, when given."""
    missing = [a for a in AGENCY_IDS if a not in base_urls]
    if missing:
        raise ValueError(f"no base URL configured for agencies: {', '.join(missing)}")
    overrides = dict(policy_overrides or {})
    unknown = set(overrides) - set(AGENCY_IDS)
    if unknown:
        raise ValueError(f"policy overrides for unknown agencies: {', '.join(sorted(unknown))}")
    extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    built = {
        name: cls(
            base_url=base_urls[cls.agency_id],
            transport=transport,
            cache=cache,
            metrics=metrics,
            policy=cls.policy.with_overrides(overrides.get(cls.agency_id, {})),
            maintenance=maintenance,
            recent=recent,
            health=health,
            **extra,
        )
        for name, cls in _CLASSES.items()
    }
    metrics.declare_agencies(list(AGENCY_IDS))
    for connector in built.values():
        capacity = metrics.agency_bulkhead_capacity.labels(connector.agency_id)
        capacity.set(connector.policy.max_concurrent)
    return Connectors(**built)
