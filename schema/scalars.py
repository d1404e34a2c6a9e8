"""Custom scalars: amounts in Rials that never overflow.

`Rial` (declared in domain/models.py) is a NewType of int for the type checker; `SCALAR_MAP`
tells strawberry how it looks on the wire, passed to the schema through
`StrawberryConfig(scalar_map=...)`.
"""

from __future__ import annotations

import strawberry

from domain.models import Rial

__all__ = ["SCALAR_MAP", "Rial"]


def _parse_rial(value: object) -> int:
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise ValueError("a Rial amount is a whole number of Rials, as digits")
    return int(text)


SCALAR_MAP = {
    Rial: strawberry.scalar(
        name="Rial",
        description=(
            "An amount in Rials, as a string of decimal digits. GraphQL Int is 32-bit and bills "
            "and taxes exceed it; a string survives every JSON parser."
        ),
        serialize=lambda value: str(int(value)),
        parse_value=_parse_rial,
    )
}
