"""Which address an anonymous caller is counted under.

The peer address of the connection, unless the peer is a trusted proxy: then X-Forwarded-For is
read from the right (each proxy appends the address it got the request from), skipping trusted
proxies, and the first address that is not one is the client. Anything a client wrote to the
left of that is ignored, so a forged header cannot choose someone else's budget. A malformed
entry stops the walk at the proxy that passed it on. IPv6 clients are counted by their /64, the
block one subscriber gets, so rotating addresses inside it does not buy new budgets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

__all__ = ["client_address"]

_IPV6_PREFIX = 64


def client_address(
    peer: str | None,
    forwarded_for: Iterable[str],
    trusted: Sequence[IPv4Network | IPv6Network],
) -> str:
    """The address (or IPv6 /64) to count an anonymous request under."""
    if not peer:
        return "unknown"
    try:
        current = ip_address(peer)
    except ValueError:
        return peer  # a unix socket or the like: one budget for it
    if trusted and _is_trusted(current, trusted):
        hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            try:
                address = ip_address(hop)
            except ValueError:
                break
            current = address
            if not _is_trusted(address, trusted):
                break
    if isinstance(current, IPv6Address):
        if current.ipv4_mapped is not None:
            return str(current.ipv4_mapped)
        return str(ip_network(f"{current}/{_IPV6_PREFIX}", strict=False))
    return str(current)


def _is_trusted(address: object, trusted: Sequence[IPv4Network | IPv6Network]) -> bool:
    return any(address in network for network in trusted)
