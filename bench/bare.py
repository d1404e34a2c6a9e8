"""The ceiling: a bare aiohttp server answering `/graphql` with a fixed ~1 KB JSON body.

No GraphQL, no validation, no agencies: whatever the gateway costs on top of this is Panjereh's
own work. The body is encoded once at import so the handler measures only aiohttp itself. The
request body is read (any real server must read it) but not parsed.

    python -m bench.bare --port 9200
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from aiohttp import web

__all__ = ["BODY", "create_app", "main"]


def _fixed_body(size: int = 1024) -> bytes:
    """A GraphQL-shaped answer padded to about `size` bytes, so its size matches a small reply."""
    data: dict[str, object] = {
        "data": {
            "me": {
                "nationalCode": "0012345679",
                "profile": {"firstName": "Ali", "lastName": "Mohammadi", "alive": True},
                "padding": "",
            }
        }
    }
    base = len(json.dumps(data, separators=(",", ":")).encode())
    data["data"]["me"]["padding"] = "x" * max(0, size - base)  # type: ignore[index]
    return json.dumps(data, separators=(",", ":")).encode()


BODY = _fixed_body()


async def _graphql(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=BODY, content_type="application/json")


def create_app() -> web.Application:
    """The bare app; GET and POST `/graphql` both answer, like the gateway's route."""
    app = web.Application()
    app.router.add_route("GET", "/graphql", _graphql)
    app.router.add_route("POST", "/graphql", _graphql)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(create_app(), host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
