"""What every resolver of one GraphQL request can reach."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from strawberry.dataloader import DataLoader

from auth.principal import Principal
from connectors.registry import Connectors
from domain.sourced import Fetched
from observability.metrics import Metrics

__all__ = ["GatewayContext", "RequestLoaders"]

T = TypeVar("T")


class RequestLoaders:
    """One DataLoader per agency operation, living as long as one request.

    Two fields that need the same agency answer for the same citizen share one call; each key
    fails alone (its exception is its result), as strawberry's DataLoader allows.
    """

    def __init__(self) -> None:
        self._loaders: dict[Callable[..., Any], DataLoader[Any, Any]] = {}

    async def load(self, op: Callable[..., Awaitable[Fetched[T]]], *args: Hashable) -> Fetched[T]:
        loader = self._loaders.get(op)
        if loader is None:

            async def load_many(keys: list[tuple[Hashable, ...]]) -> list[Any]:
                return await asyncio.gather(*(op(*key) for key in keys), return_exceptions=True)

            loader = self._loaders[op] = DataLoader(load_fn=load_many)
        return await loader.load(args)


@dataclass
class GatewayContext:
    """Per-request context: the caller, the connectors and the request's loaders."""

    request: web.Request | None
    principal: Principal | None
    connectors: Connectors
    metrics: Metrics
    loaders: RequestLoaders = field(default_factory=RequestLoaders)
