"""Accept negotiation (RFC 9110 §12.5.1) between the two GraphQL response media types."""

from __future__ import annotations

import pytest

from schema.media_types import ResponseMedia, names_html, negotiate

GR = ResponseMedia.GRAPHQL_RESPONSE
JSON = ResponseMedia.JSON


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        # the specification's own recommendations to clients
        ("application/graphql-response+json", GR),
        ("application/graphql-response+json, application/json;q=0.9", GR),
        (
            "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8",
            GR,
        ),
        ("application/json", JSON),
        # weights decide, whatever the order
        ("application/json;q=0.5, application/graphql-response+json", GR),
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/json;q=0.9, application/graphql-response+json;q=0.91", GR),
        # equal weights: the one listed first
        ("application/json, application/graphql-response+json", JSON),
        ("application/graphql-response+json, application/json", GR),
        # wildcards: legacy clients get what they always got; a named type wins a tie
        ("*/*", JSON),
        ("application/*", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
        ("*/*, application/graphql-response+json", GR),
        ("application/graphql-response+json;q=0.8, */*;q=0.9", JSON),
        # the most specific range gives a type its weight; 0 means "not this one"
        ("application/json;q=0, */*", GR),
        ("application/graphql-response+json;q=0, application/*", JSON),
        ("*/*;q=0, application/json", JSON),
        # case and spacing do not matter; an unreadable range is left out
        ("APPLICATION/JSON ; Q=1", JSON),
        ("application/json;q=abc, application/graphql-response+json", GR),
        ("nonsense, application/json", JSON),
        # no Accept: the specification's default
        (None, GR),
        ("", GR),
        ("  ", GR),
    ],
)
def test_negotiation_picks_the_heaviest_then_the_named_then_the_first(
    accept: str | None, chosen: ResponseMedia
) -> None:
    assert negotiate(accept) is chosen


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/xml, text/plain",
        "*/*;q=0",
        "application/json;q=0, application/graphql-response+json;q=0",
        "application/json; charset=iso-8859-1",  # only UTF-8 is written
        "image/*",
        "application/json;q=2",  # not a qvalue: the range is left out
    ],
)
def test_nothing_acceptable_gives_no_media_type(accept: str) -> None:
    assert negotiate(accept) is None


def test_content_types_say_utf_8() -> None:
    assert GR.content_type == "application/graphql-response+json; charset=utf-8"
    assert JSON.content_type == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html", True),
        ("*/*", False),  # a client taking anything is not asking for a page
        ("text/*", False),
        ("text/html;q=0", False),
        ("application/json", False),
        (None, False),
    ],
)
def test_a_page_is_for_who_names_html(accept: str | None, html: bool) -> None:
    assert names_html(accept) is html
