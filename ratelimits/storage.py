"""Where the counters live: a `limits` async storage for the gateway's `REDIS_URL`, or memory.

`limits` builds its async Redis storages from its own URIs; this module maps the gateway's
`REDIS_URL` (the forms `cache.redis` accepts) onto them, with redis-py as the client:

    redis://… rediss://…                      → async+redis://…  async+rediss://…
    unix:///path                              → async+redis+unix:///path
    redis+sentinel://[auth@]h[:p],…/name[/db]   → async+redis+sentinel://[auth@]h:p,…/name
        [?sentinel_password=…]                    (db and the sentinels' password as options)
    redis+cluster://[auth@]h[:p],…              → async+redis+cluster://[auth@]h:p,…
    rediss+cluster://…                          → the same, with ssl=True

Every key is prefixed `<cache namespace>:ratelimit`. Nothing connects until the first count.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string

__all__ = ["close_storage", "limits_uri", "memory_storage", "redis_storage"]

_SENTINEL_PORT = 26379
_REDIS_PORT = 6379


def limits_uri(redis_url: str) -> tuple[str, dict[str, Any]]:
    """The `limits` storage URI and extra constructor options for a gateway `REDIS_URL`."""
    scheme, sep, rest = redis_url.strip().partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ValueError("the Redis URL has no scheme")
    if scheme in ("redis", "rediss"):
        return f"async+{scheme}://{rest}", {}
    if scheme == "unix":
        return f"async+redis+unix://{rest}", {}
    parts = urlsplit(redis_url.strip())
    userinfo, _, hosts = parts.netloc.rpartition("@")
    auth = f"{userinfo}@" if userinfo else ""
    if scheme == "redis+sentinel":
        segments = [unquote(s) for s in parts.path.strip("/").split("/") if s]
        if not segments or len(segments) > 2:
            raise ValueError("a Sentinel URL needs the service name as its path: /name[/db]")
        sentinel_password = parse_qs(parts.query).get("sentinel_password", [None])[0]
        options: dict[str, Any] = {
            # Without this, `limits` would send the master's password to the sentinels too.
            "sentinel_kwargs": {"password": sentinel_password},
            "db": int(segments[1]) if len(segments) == 2 else 0,
        }
        uri = f"async+redis+sentinel://{auth}{_with_ports(hosts, _SENTINEL_PORT)}/{segments[0]}"
        return uri, options
    if scheme in ("redis+cluster", "rediss+cluster"):
        options = {"ssl": True} if scheme == "rediss+cluster" else {}
        return f"async+redis+cluster://{auth}{_with_ports(hosts, _REDIS_PORT)}", options
    raise ValueError(f"unsupported Redis URL scheme {scheme!r}")


def _with_ports(hosts: str, default_port: int) -> str:
    """`limits` needs every host with its port; the gateway's URLs may leave it out."""
    out = []
    for host in (h.strip() for h in hosts.split(",")):
        bare = host.rpartition("]")[2] if host.startswith("[") else host
        out.append(host if ":" in bare else f"{host}:{default_port}")
    return ",".join(out)


def redis_storage(redis_url: str, *, key_prefix: str, timeout_s: float) -> Storage:
    """A `limits` Redis storage (redis-py client) for `redis_url`, keys under `key_prefix`."""
    uri, options = limits_uri(redis_url)
    storage = storage_from_string(
        uri,
        implementation="redispy",
        key_prefix=key_prefix,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        **options,
    )
    assert isinstance(storage, Storage)
    return storage


def memory_storage() -> MemoryStorage:
    return MemoryStorage()


async def close_storage(storage: Storage) -> None:
    """Close a Redis storage's connections; `limits` has no close of its own (its redis-py
    client, and the Sentinel's, hang off the storage's bridge)."""
    bridge = getattr(storage, "bridge", None)
    for client in (getattr(bridge, "storage", None), getattr(bridge, "storage_replica", None)):
        if client is not None:
            with contextlib.suppress(Exception):  # closing is best effort
                await client.aclose()
    sentinel = getattr(bridge, "sentinel", None)
    if sentinel is not None:
        with contextlib.suppress(Exception):
            await sentinel.aclose()
