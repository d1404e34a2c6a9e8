"""Each agency's names by its id, for every answer that names an agency: sources, errors.

The names are the connectors' own (`name_fa`, `name_en` on each connector class);
`connectors.registry` records them here once, when it builds its table of connectors, so that a
`Source` names its agency as a plain attribute and the error messages can say it in Persian.
An id no connector has is named by nobody (None).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["AgencyNames", "name_en", "name_fa", "names_of", "record_names"]


@dataclass(frozen=True, slots=True)
class AgencyNames:
    fa: str
    """As citizens know it (Persian)."""
    en: str


_NAMES: dict[str, AgencyNames] = {}


def record_names(names: Mapping[str, AgencyNames]) -> None:
    """Record the agencies' names by id (the connector registry does, once)."""
    _NAMES.update(names)


def names_of(agency: str) -> AgencyNames | None:
    return _NAMES.get(agency)


def name_fa(agency: str) -> str:
    """The agency's Persian name, or its id when no connector names it."""
    names = _NAMES.get(agency)
    return names.fa if names is not None else agency


def name_en(agency: str) -> str:
    names = _NAMES.get(agency)
    return names.en if names is not None else agency
