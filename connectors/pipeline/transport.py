"""The seam between the pipeline and the network: one request value in, one response value out.

    AgencyConnector._attempt ──▶ Transport.send(TransportRequest) ──▶ TransportResponse
                                      │ AioHttpTransport     production: one ClientSession per app
                                      │ ScriptedTransport    unit tests (tests/support): canned
                                      │                      answers and failures, no sockets

A transport moves bytes and nothing else: it does not retry, judge a status code or parse a body.
What can go wrong on the way is translated into the error tree here, once, with `raise … from
exc` (httpx's idea of a transport: `httpx/_transports/base.py`):

    no answer within `timeout`            ─▶ AgencyTimeout      (transient)
    connection refused, reset, TLS, DNS   ─▶ AgencyUnavailable  (transient)
    a body larger than `max_body_bytes`   ─▶ AgencyBadResponse
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from domain.errors import AgencyBadResponse, AgencyTimeout, AgencyUnavailable

__all__ = ["AioHttpTransport", "Transport", "TransportRequest", "TransportResponse"]

_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class TransportRequest:
    """One HTTP exchange with an agency, as the pipeline decided it (`agency` names the errors)."""

    agency: str
    method: str
    url: str
    timeout: float
    max_body_bytes: int
    params: Mapping[str, str] | None = None
    json: Any = None
    data: bytes | str | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class TransportResponse:
    """What the agency answered: status, headers and the whole (bounded) body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class Transport(Protocol):
    """Sends one request; raises only from the error tree (see the module docstring)."""

    async def send(self, request: TransportRequest) -> TransportResponse: ...


class AioHttpTransport:
    """The production transport over the app's one `aiohttp.ClientSession`."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def send(self, request: TransportRequest) -> TransportResponse:
        agency = request.agency
        try:
            async with (
                asyncio.timeout(request.timeout),
                self.session.request(
                    request.method,
                    request.url,
                    params=request.params,
                    json=request.json,
                    data=request.data,
                    headers=request.headers,
                ) as response,
            ):
                body = await _read_bounded(response, request)
                return TransportResponse(response.status, response.headers, body)
        except TimeoutError as exc:
            message = f"{agency} did not answer within {request.timeout:.1f} s"
            raise AgencyTimeout(agency, message, transient=True) from exc
        except aiohttp.ClientError as exc:
            raise AgencyUnavailable(
                agency, f"{agency} could not be reached", transient=True
            ) from exc


async def _read_bounded(response: aiohttp.ClientResponse, request: TransportRequest) -> bytes:
    """The body, but never more than `max_body_bytes`: a larger answer is refused as soon as its
    declared length or the bytes read so far say so, and the connection is dropped rather than
    drained (the gateway's memory is not the agency's to take)."""
    limit = request.max_body_bytes
    too_large = AgencyBadResponse(
        request.agency, f"{request.agency} answered with more than {limit} bytes"
    )
    if response.content_length is not None and response.content_length > limit:
        response.close()
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            response.close()
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
