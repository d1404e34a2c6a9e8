"""GraphQL object types derived from the classes that hold the data, so no type is written twice.

A domain record (a pydantic model) or a result dataclass is the one definition of its fields;
`object_type` turns it into a strawberry type with the same fields, in the same order, with
each field's `description`. `sourced_type` does the same for an agency answer and adds
`source: SourceInfo!`; its runtime object is a `domain.sourced.Sourced`. The runtime objects are
the records themselves: every derived field is a plain attribute read by strawberry's default
resolver, never a resolver or converter of ours.

Annotations map as follows: `Day` → `CalendarDate`, `Source` → `SourceInfo`, a class derived
before → its type, `Sourced[M]` → the sourced type of `M`, `list[X]` and `X | None` → the same
around the mapping of `X`; a record not derived yet → `object_type` of it, with its name and
docstring (derive it first where it needs more, e.g. `extra` fields); an enum → itself, made a
GraphQL enum with its docstring if it is not one yet; anything else (str, int, bool, float,
datetime, `Rial`) as it is. So a new agency's record and everything it holds is one
`sourced_type` line.

Why not `strawberry.experimental.pydantic.type` (strawberry 0.341): it derives the fields well,
but its types accept only instances of their model (`is_type_of`), which rules out the `Sourced`
view; it has no hook to map a field type (every date field would need a hand-written override to
become `CalendarDate`); its `from_pydantic` copies each record recursively on every request;
and it binds one GraphQL type to each model class (`model._strawberry_type`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import inspect
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Optional

import strawberry
from pydantic import BaseModel
from strawberry.types.field import StrawberryField

from domain.calendar import Day
from domain.sourced import Source, Sourced

__all__ = ["CalendarDate", "SourceInfo", "is_sourced_list", "object_type", "sourced_type"]


@strawberry.type(description="A calendar day, in ISO (Gregorian) and Jalali forms.")
class CalendarDate:
    """Read from a `Day`: both forms are attributes of it."""

    iso: dt.date
    jalali: str = strawberry.field(description="Jalali date as YYYY/MM/DD with ASCII digits.")


@strawberry.type(description="Where a piece of agency data came from and how old it is.")
class SourceInfo:
    """Read from a `Source`; its age is computed when the response is written."""

    agency: str
    name_fa: str = strawberry.field(description="The agency's name as citizens know it (Persian).")
    name_en: str = strawberry.field(description="The agency's name in English.")
    fetched_at: dt.datetime
    age: int = strawberry.field(name="ageSeconds")
    stale: bool = strawberry.field(
        description="True when the agency failed and this is a cached copy within its stale window."
    )


_DERIVED: dict[Any, type] = {Day: CalendarDate, Source: SourceInfo}
"""Each class (or `Sourced[M]`) derived so far → its GraphQL type."""
_SOURCED_LISTS: set[type] = set()


def is_sourced_list(graphql_type: type) -> bool:
    """Whether `graphql_type` is a sourced list (`items` and `source`), as `sourced_type` of a
    `list[M]` makes it: an agency's "no record" is then an empty list, not null."""
    return graphql_type in _SOURCED_LISTS


def object_type(
    cls: type,
    *,
    name: str | None = None,
    description: str | None = None,
    exclude: tuple[str, ...] = (),
    names: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> type:
    """The GraphQL type of `cls` (a pydantic model or a dataclass): its fields but `exclude`,
    GraphQL names from `names` (python name → GraphQL name) where they differ, then `extra`
    (python name → annotation, or a `strawberry.field` with a resolver, or with a
    `graphql_type` for an attribute the class offers, e.g. a property, with a description)."""
    graphql_type = _build(name or cls.__name__, description, _fields(cls, exclude, names), extra)
    _DERIVED[cls] = graphql_type
    return graphql_type


def sourced_type(
    value: Any,
    *,
    name: str | None = None,
    description: str | None = None,
    exclude: tuple[str, ...] = (),
    names: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> type:
    """The GraphQL type of an agency answer read through `Sourced`: a record's fields (or, for
    `list[M]`, `items: [M!]!`), then `extra`, then `source: SourceInfo!`."""
    if typing.get_origin(value) is list:
        if name is None:
            raise TypeError("a sourced list needs a name")
        fields: dict[str, tuple[Any, StrawberryField]] = {"items": (value, strawberry.field())}
        graphql_list = _build(name, description, fields, extra, sourced=True)
        _SOURCED_LISTS.add(graphql_list)
        return graphql_list
    fields = _fields(value, exclude, names)
    graphql_type = _build(name or value.__name__, description, fields, extra, sourced=True)
    _DERIVED[Sourced[value]] = graphql_type  # type: ignore[valid-type]
    return graphql_type


def _fields(
    cls: type, exclude: tuple[str, ...], names: Mapping[str, str] | None
) -> dict[str, tuple[Any, StrawberryField]]:
    names = names or {}
    return {
        field: (annotation, strawberry.field(name=names.get(field), description=description))
        for field, annotation, description in _declared(cls)
        if field not in exclude
    }


def _declared(cls: type) -> Iterator[tuple[str, Any, str | None]]:
    """Each field of a pydantic model or dataclass: name, annotation, description."""
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        for field, info in cls.model_fields.items():
            yield field, info.annotation, info.description
    elif dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            yield f.name, hints[f.name], f.metadata.get("description")
    else:
        raise TypeError(f"{cls!r} is neither a pydantic model nor a dataclass")


def _build(
    name: str,
    description: str | None,
    fields: Mapping[str, tuple[Any, StrawberryField]],
    extra: Mapping[str, Any] | None,
    *,
    sourced: bool = False,
) -> type:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__, "__annotations__": annotations}
    for field, (annotation, definition) in fields.items():
        annotations[field] = _graphql(annotation)
        namespace[field] = definition
    for field, spec in (extra or {}).items():
        if isinstance(spec, StrawberryField):  # annotated too, to keep its place
            namespace[field] = spec
            resolver = spec.base_resolver
            if resolver is not None:
                annotations[field] = typing.get_type_hints(resolver.wrapped_func)["return"]
            elif spec.type_annotation is not None:  # an attribute (a property) described
                annotations[field] = spec.type_annotation.annotation
        else:
            annotations[field] = _graphql(spec)
    if sourced:
        annotations["source"] = SourceInfo
    return strawberry.type(type(name, (), namespace), name=name, description=description)


def _graphql(annotation: Any) -> Any:
    """The GraphQL-side annotation for a field's declared one (see the module docstring)."""
    derived = _DERIVED.get(annotation)
    if derived is not None:
        return derived
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        present = [a for a in args if a is not type(None)]
        if len(present) != 1 or len(args) != 2:
            raise TypeError(f"only `X | None` unions can be derived, not {annotation!r}")
        return Optional[_graphql(present[0])]  # noqa: UP045 - built at run time
    if origin is list:
        return list[_graphql(args[0])]  # type: ignore[misc]
    if isinstance(annotation, type) and (
        issubclass(annotation, BaseModel) or dataclasses.is_dataclass(annotation)
    ):
        return object_type(annotation, description=_own_doc(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        if not hasattr(annotation, "__strawberry_definition__"):
            strawberry.enum(annotation, description=annotation.__doc__)
        return annotation
    if origin is Sourced:
        raise TypeError(f"derive the sourced type of {args[0].__name__} before its lists")
    return annotation


def _own_doc(cls: type) -> str | None:
    """The docstring `cls` itself declares (not one inherited, nor pydantic's default)."""
    doc = cls.__dict__.get("__doc__")
    if not doc or (dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}(")):
        return None  # none, or the signature a dataclass writes for itself
    return inspect.cleandoc(doc)
