"""Which media type an answer of `/graphql` is written in, read from the request's `Accept`.

The GraphQL over HTTP specification (draft) names two response media types. Both carry the same
JSON; they differ in what the HTTP status says (`schema.http_answer`):

- `application/graphql-response+json`: the status tells how the request went (4xx when it
  could not run);
- `application/json`, for legacy clients: 200 for every well-formed request, whatever its
  errors.

Negotiation follows RFC 9110 §12.5.1: each of the two is given the weight of the most specific
media range that matches it (`application/json` before `application/*` before `*/*`; a range
with a `charset` other than UTF-8 does not match, since we write only UTF-8), weight 0 means
"not acceptable", and the heavier wins. On equal weights a type named outright wins over one
matched by a wildcard, then the one listed first; a bare wildcard (`*/*`, `application/*`) is
answered in `application/json`, as every legacy client expects. No `Accept` header at all is
taken as `application/graphql-response+json` (the specification's default for a client that
states nothing). When neither type is acceptable there is no media type: the view answers 406.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ResponseMedia", "names_html", "negotiate"]


class ResponseMedia(StrEnum):
    """A media type a GraphQL answer may be written in."""

    GRAPHQL_RESPONSE = "application/graphql-response+json"
    JSON = "application/json"

    @property
    def content_type(self) -> str:
        """The `Content-Type` header value, with its encoding."""
        return f"{self.value}; charset=utf-8"


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    weight: float
    position: int
    params: dict[str, str]

    def specificity(self, media: ResponseMedia) -> int:
        """2 for the type itself, 1 for `application/*`, 0 for `*/*`, -1 for no match."""
        media_type, media_subtype = media.value.split("/")
        if self.params.get("charset", "utf-8") not in ("utf-8", "utf8"):
            return -1
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != media_type:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == media_subtype else -1


def negotiate(accept: str | None) -> ResponseMedia | None:
    """The media type to answer in, or None if `accept` admits neither."""
    if accept is None or not accept.strip():
        return ResponseMedia.GRAPHQL_RESPONSE
    ranges = _ranges(accept)
    best: tuple[float, int, int, int] | None = None
    chosen: ResponseMedia | None = None
    for preference, media in enumerate((ResponseMedia.JSON, ResponseMedia.GRAPHQL_RESPONSE)):
        matching = [r for r in ranges if r.specificity(media) >= 0]
        if not matching:
            continue
        most_specific = max(matching, key=lambda r: (r.specificity(media), -r.position))
        if most_specific.weight <= 0:
            continue
        named = most_specific.specificity(media) == 2
        key = (most_specific.weight, named, -most_specific.position if named else 0, -preference)
        if best is None or key > best:
            best, chosen = key, media
    return chosen


def names_html(accept: str | None) -> bool:
    """Whether `accept` names `text/html` outright with a weight above 0 (a browser's page
    request, not a client taking anything)."""
    return any(
        r.type == "text" and r.subtype == "html" and r.weight > 0 for r in _ranges(accept or "")
    )


def _ranges(accept: str) -> list[_Range]:
    """The media ranges of an `Accept` value; a range that cannot be read is left out."""
    ranges = []
    for position, item in enumerate(accept.split(",")):
        name, *parameters = (part.strip() for part in item.split(";"))
        media_type, slash, subtype = name.lower().partition("/")
        if not slash or not media_type or not subtype or (media_type == "*" and subtype != "*"):
            continue
        params: dict[str, str] = {}
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            params[key.strip().lower()] = value.strip().strip('"').lower()
        weight = _weight(params.pop("q", "1"))
        if weight is not None:
            ranges.append(_Range(media_type, subtype, weight, position, params))
    return ranges


def _weight(text: str) -> float | None:
    """A qvalue (RFC 9110 §12.4.2: 0 to 1, three decimals at most), or None if it is not one."""
    try:
        weight = float(text)
    except ValueError:
        return None
    return weight if 0 <= weight <= 1 and len(text) <= 5 else None
