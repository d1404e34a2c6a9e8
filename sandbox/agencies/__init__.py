"""The sixteen simulated agencies, in the fixed order that decides their ports."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType
from typing import NamedTuple

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.agencies import (
    civil_registry,
    education,
    electricity,
    gas,
    health_insurance,
    judiciary,
    land_registry,
    licensing_portal,
    military_service,
    post,
    shahkar,
    social_security,
    tax,
    telecom,
    traffic_police,
    water,
)
from sandbox.health import add_health_route
from sandbox.pages import WireStyle


class Agency(NamedTuple):
    """How to build one agency's app and which wire style its error answers use."""

    agency_id: str
    style: WireStyle
    build_app: Callable[[Iterable[Middleware]], web.Application]


def _agency(module: ModuleType) -> Agency:
    build = module.build_app

    def build_app(middlewares: Iterable[Middleware]) -> web.Application:
        return add_health_route(build(middlewares))  # every agency has `GET /health`

    return Agency(module.AGENCY_ID, module.STYLE, build_app)


AGENCIES: tuple[Agency, ...] = tuple(
    _agency(module)
    for module in (
        civil_registry,
        post,
        shahkar,
        water,
        electricity,
        gas,
        telecom,
        traffic_police,
        tax,
        licensing_portal,
        social_security,
        health_insurance,
        education,
        judiciary,
        military_service,
        land_registry,
    )
)
AGENCY_IDS: tuple[str, ...] = tuple(agency.agency_id for agency in AGENCIES)
