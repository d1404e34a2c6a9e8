"""GraphiQL served by the gateway itself: the page, and the static files it loads.

Government networks are often cut off from the internet, so nothing comes from a CDN: the page
loads the release builds vendored under `static/vendor/` (GraphiQL's standalone build and
React's UMD builds; versions, licences and how to refresh them in its README) and `start.js`,
which mounts the explorer. The page's Content-Security-Policy admits scripts, styles and
connections from the gateway only; fonts and images also as `data:` URIs, the form in which
GraphiQL's stylesheet embeds its fonts and icons.

The view renders the page for a browser's GET of `/graphql` (`schema.view`), in development mode
only; `graphiql_routes` serves the files under `/graphiql/` and is added in development only, so
production answers 404 for them. The page comes with an example query and, when the gateway signs
development tokens, a sandbox citizen's token in the headers editor, made fresh for each load.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

__all__ = [
    "ASSETS_PREFIX",
    "CONTENT_SECURITY_POLICY",
    "EXAMPLE_QUERY",
    "GraphiQLPage",
    "graphiql_routes",
]

ASSETS_PREFIX = "/graphiql"
STATIC_DIR = Path(__file__).with_name("static")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

EXAMPLE_QUERY = """\
# One query, answered by every agency that holds
# the citizen's data. Run it with ▶ (Ctrl-Enter).
# The headers below carry a sandbox citizen's
# development token.
query Me {
  me {
    profile {
      firstName
      lastName
      birthDate {
        jalali
      }
    }
    bills {
      totalAmount
      items {
        kind
        amount
      }
    }
  }
}
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Panjereh · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{prefix}/vendor/graphiql.min.css">
<link rel="stylesheet" href="{prefix}/page.css">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="graphiql-settings">{settings}</script>
<script src="{prefix}/vendor/react.production.min.js"></script>
<script src="{prefix}/vendor/react-dom.production.min.js"></script>
<script src="{prefix}/vendor/graphiql.min.js"></script>
<script src="{prefix}/start.js"></script>
</body>
</html>
"""


def _no_headers() -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class GraphiQLPage:
    """The explorer's page: `query` in the editor, `headers()` (called per load) in the
    headers editor when it gives any."""

    query: str = EXAMPLE_QUERY
    headers: Callable[[], Mapping[str, str]] = field(default=_no_headers)
    endpoint: str = "/graphql"

    def render(self) -> web.Response:
        """The HTML page; never stored, since it may carry a token."""
        headers = dict(self.headers())
        settings = {
            "url": self.endpoint,
            "query": self.query,
            "headers": json.dumps(headers, indent=2) if headers else None,
        }
        # In a <script> data block only "</script" or "<!--" could end it early: no "<" at all.
        text = json.dumps(settings, ensure_ascii=False).replace("<", "\\u003c")
        return web.Response(
            text=_PAGE.format(prefix=ASSETS_PREFIX, settings=text),
            content_type="text/html",
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )


def graphiql_routes() -> list[web.AbstractRouteDef]:
    """The static files of the page, under `ASSETS_PREFIX`."""
    return [web.static(ASSETS_PREFIX, STATIC_DIR)]
