"""GraphiQL as the gateway serves it, over HTTP: every file from the gateway itself, a self-only
CSP, the example query and a ready token in development, nothing of it in production.

tests/integration/test_graphiql_browser.py runs the page in a real browser."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from auth.tokens import TokenVerifier
from sandbox import PERSONAS
from schema.graphiql.page import CONTENT_SECURITY_POLICY, EXAMPLE_QUERY
from tests.support.gateway import RunningGateway, running_gateway
from tests.support.signing import SigningKey, production_tokens

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
_REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')
_SETTINGS = re.compile(r'<script type="application/json" id="graphiql-settings">(.*?)</script>')
_CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css"}


async def _page(gw: RunningGateway) -> tuple[str, dict[str, str]]:
    async with gw.client.get(f"{gw.url}/graphql", headers=BROWSER) as response:
        assert response.status == 200 and response.content_type == "text/html"
        return await response.text(), dict(response.headers)


def _settings(page: str) -> dict[str, Any]:
    found = _SETTINGS.search(page)
    assert found is not None
    return json.loads(found.group(1))


async def test_the_page_loads_every_file_from_the_gateway(gateway: RunningGateway) -> None:
    page, headers = await _page(gateway)
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY  # no inline script, no eval, no CDN
    assert headers["Cache-Control"] == "no-store"  # it may carry a token
    assert "://" not in page  # no URL of another host at all
    references = _REFERENCE.findall(page)
    files = [r for r in references if not r.startswith("data:")]
    assert {Path(f).name for f in files} == {
        "graphiql.min.css",
        "page.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "start.js",
    }
    for path in files:
        assert path.startswith("/graphiql/")
        async with gateway.client.get(f"{gateway.url}{path}") as response:
            assert response.status == 200, path
            assert response.content_type == _CONTENT_TYPES[Path(path).suffix], path
            assert len(await response.read()) > 0


async def test_the_vendored_files_come_with_their_licences(gateway: RunningGateway) -> None:
    for name in ("LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom", "README.md"):
        async with gateway.client.get(f"{gateway.url}/graphiql/vendor/{name}") as response:
            assert response.status == 200, name
            text = await response.text()
        assert ("MIT License" in text) if name.startswith("LICENSE") else ("3.9.0" in text)


async def test_development_fills_in_the_example_query_and_a_sandbox_citizens_token(
    gateway: RunningGateway,
) -> None:
    page, _ = await _page(gateway)
    settings = _settings(page)
    assert settings["url"] == "/graphql" and settings["query"] == EXAMPLE_QUERY
    authorization = json.loads(settings["headers"])["Authorization"]
    assert authorization.startswith("Bearer ")
    principal = await TokenVerifier.from_settings(gateway.settings).verify(
        authorization.removeprefix("Bearer ")
    )
    assert principal.national_code == PERSONAS["complete"] and principal.level == 3


async def test_no_token_is_filled_in_where_tokens_come_from_an_identity_provider(
    tmp_path: Path,
) -> None:
    pem = SigningKey.generate("idp").write_pem(tmp_path)
    async with running_gateway(tokens=production_tokens(pem_files=[pem])) as gw:
        page, _ = await _page(gw)
    assert _settings(page)["headers"] is None


async def test_production_serves_neither_the_page_nor_its_files(tmp_path: Path) -> None:
    pem = SigningKey.generate("prod").write_pem(tmp_path)
    production = {
        "mode": "production",
        "tokens": production_tokens(pem_files=[pem]),
        "cache_key_secret": "shared",
    }
    async with running_gateway(**production) as gw:
        for name in ("vendor/graphiql.min.js", "start.js", "vendor/LICENSE.graphiql"):
            async with gw.client.get(f"{gw.url}/graphiql/{name}") as response:
                assert response.status == 404, name
        async with gw.client.get(f"{gw.url}/graphql", headers=BROWSER) as response:
            assert response.status == 400  # a GraphQL request without a query, not a page
            assert "Content-Security-Policy" not in response.headers
            body = await response.json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
