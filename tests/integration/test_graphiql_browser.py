"""GraphiQL in a real browser (Debian's headless Chromium) with no internet: the page loads from
the gateway alone, runs its example query with the token it came with, and shows the answer.

The screenshot is kept under `graphiql/` in the test artefacts directory (`tests/artifacts/`,
ignored by git; another one with `PANJEREH_TEST_ARTIFACTS`); its path is printed and recorded as
the test's `screenshot` property (junit XML)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from sandbox import PERSONAS
from schema.graphiql.page import EXAMPLE_QUERY
from tests.support.chromium import (
    HeadlessChromium,
    artifacts_dir,
    chromium_unavailable,
    find_chromium,
)
from tests.support.gateway import RunningGateway

ARTIFACTS = artifacts_dir("graphiql")
_QUERY_EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
_SHOWN_TOOL_EDITOR = (  # the headers editor, shown in place of the variables editor
    "document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')"
    ".CodeMirror.getValue()"
)
_RESULT_ON_SCREEN = (
    "(() => { const pane = document.querySelector('.result-window .CodeMirror');"
    " return pane ? pane.innerText : ''; })()"
)


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        chromium_unavailable("no chromium on PATH, and it could not be installed with apt-get")
    return binary


async def test_graphiql_runs_the_example_query_offline_and_shows_the_answer(
    gateway: RunningGateway,
    chromium: str,
    record_property: Callable[[str, object], None],
) -> None:
    status, expected = await gateway.query(
        "{ me { profile { firstName lastName } } }", token=gateway.token(PERSONAS["complete"])
    )
    assert status == 200
    profile = expected["data"]["me"]["profile"]

    async with HeadlessChromium(chromium) as browser, browser.page() as page:
        await page.open(f"{gateway.url}/graphql")
        await page.wait_for("!!document.querySelector('.graphiql-execute-button')")
        assert await page.evaluate(_QUERY_EDITOR) == EXAMPLE_QUERY
        headers = json.loads(await page.evaluate(_SHOWN_TOOL_EDITOR))
        assert headers["Authorization"].startswith("Bearer ")

        await page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        shown = await page.wait_for(f"{_RESULT_ON_SCREEN}.includes('\"firstName\"')")
        assert shown
        on_screen = await page.evaluate(_RESULT_ON_SCREEN)
        screenshot = await page.screenshot(ARTIFACTS / "graphiql.png")

    print(f"GraphiQL screenshot: {screenshot}")
    record_property("screenshot", str(screenshot))
    assert f'"firstName": "{profile["firstName"]}"' in on_screen
    assert f'"lastName": "{profile["lastName"]}"' in on_screen
    assert '"errors"' not in on_screen
    assert page.requested_elsewhere(gateway.url) == []  # nothing from a CDN, nor from elsewhere
    assert page.logged == []  # no CSP violation, no script error, no failed load
