"""Debian's Chromium, headless, driven over the DevTools protocol, for tests that look at a page
as a person would.

Where the browser comes from (`find_chromium`): `chromium` (or `chromium-browser`) on PATH;
else, running as root with apt-get, `apt-get install -y chromium` (after `apt-get update` if the
first try finds no such package); else, under `CI=true`, the test FAILS; elsewhere it is skipped
with the reason (as tests/redis_server.py does for Redis).

The protocol client is ours and small (aiohttp's WebSocket client, already a dependency): one
browser per `Chromium`, one tab per `page()`, commands answered by id, events kept per session.
The browser runs with a throwaway profile and is killed on exit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import aiohttp
import pytest

from tests.redis_server import in_ci

__all__ = ["Chromium", "Tab", "browser_unavailable", "find_chromium"]

_INSTALL_TIMEOUT_S = 900.0
_START_TIMEOUT_S = 30.0
_COMMAND_TIMEOUT_S = 30.0


def browser_unavailable(reason: str) -> NoReturn:
    """Fail under CI=true (browser tests must run there), skip elsewhere."""
    if in_ci():
        pytest.fail(f"Chromium is required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"no Chromium for this test: {reason}")


@cache
def find_chromium(*, install: bool = True) -> str | None:
    """A Chromium executable: PATH first, then Debian's package installed with apt-get."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    if not _apt_get("install", "-y", "chromium"):
        _apt_get("update")
        _apt_get("install", "-y", "chromium")
    return shutil.which("chromium")


def _apt_get(*args: str) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(
            ["apt-get", *args],
            capture_output=True,
            env=env,
            timeout=_INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class Tab:
    """One page of the browser, attached in flat mode (messages carry its session id)."""

    def __init__(self, browser: Chromium, session_id: str) -> None:
        self._browser = browser
        self.session_id = session_id
        self.events: list[dict[str, Any]] = []

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await self._browser.send(method, params, session_id=self.session_id)

    async def open(self, url: str, *, width: int, height: int, mobile: bool) -> None:
        """Set the viewport, load `url` and wait for its load event."""
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        loaded = self._browser.expect("Page.loadEventFired", self.session_id)
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(loaded, _COMMAND_TIMEOUT_S)

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (the page's own CSP does not
        apply to the DevTools protocol)."""
        answer = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise AssertionError(f"{expression!r} threw: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def screenshot(
        self, path: Path, *, full_page: bool = False, selector: str | None = None
    ) -> Path:
        """A PNG of the viewport, of the whole page, or of the element `selector` finds."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = (await self.send("Page.getLayoutMetrics"))["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
            params |= {"captureBeyondViewport": True, "clip": {**clip, "scale": 1}}
        elif selector is not None:
            clip = await self.evaluate(
                f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                ".getBoundingClientRect(); return {x: r.x + scrollX, y: r.y + scrollY, "
                "width: r.width, height: r.height}; })()"
            )
            params |= {"captureBeyondViewport": True, "clip": {**clip, "scale": 1}}
        shot = await self.send("Page.captureScreenshot", **params)
        await asyncio.to_thread(_write, path, base64.b64decode(shot["data"]))
        return path

    def requested_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]

    def console_errors(self) -> list[str]:
        """Browser log entries at error level (a CSP violation is one)."""
        return [
            e["params"]["entry"]["text"]
            for e in self.events
            if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
        ]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


class Chromium:
    """A headless Chromium with a throwaway profile; use `async with Chromium(binary)`."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self._profile = Path(tempfile.mkdtemp(prefix="panjereh-chromium-"))
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._waiters: list[tuple[str, str | None, asyncio.Future[dict[str, Any]]]] = []
        self._tabs: dict[str, Tab] = {}

    async def __aenter__(self) -> Chromium:
        args = [
            self.binary,
            "--headless",
            "--no-sandbox",  # root in CI; the pages are our own
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={self._profile}",
            "about:blank",
        ]
        with (self._profile / "chromium.log").open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                *args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: renderers are killed with it
            )  # fmt: skip
        try:
            endpoint = await self._endpoint()
            self._session = aiohttp.ClientSession()
            self._ws = await self._session.ws_connect(endpoint, max_msg_size=0)
            self._reader = asyncio.create_task(self._read())
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def _endpoint(self) -> str:
        port_file = self._profile / "DevToolsActivePort"
        deadline = asyncio.get_running_loop().time() + _START_TIMEOUT_S
        while asyncio.get_running_loop().time() < deadline:
            assert self._process is not None
            if self._process.returncode is not None:
                raise RuntimeError(f"chromium exited: {self.log_tail()}")
            with contextlib.suppress(OSError, ValueError):
                port, path = port_file.read_text().split()[:2]
                return f"ws://127.0.0.1:{int(port)}{path}"
            await asyncio.sleep(0.05)
        raise RuntimeError(f"chromium did not open its DevTools port: {self.log_tail()}")

    def log_tail(self, lines: int = 10) -> str:
        try:
            text = (self._profile / "chromium.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            await asyncio.wait_for(self._process.wait(), 10)
        shutil.rmtree(self._profile, ignore_errors=True)

    async def send(
        self, method: str, params: dict[str, Any] | None = None, *, session_id: str | None = None
    ) -> dict[str, Any]:
        assert self._ws is not None
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        answer = asyncio.get_running_loop().create_future()
        self._answers[message_id] = answer
        await self._ws.send_str(json.dumps(message))
        reply = await asyncio.wait_for(answer, _COMMAND_TIMEOUT_S)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def expect(self, method: str, session_id: str | None) -> asyncio.Future[dict[str, Any]]:
        """A future for the next event `method` of that session."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((method, session_id, waiter))
        return waiter

    async def _read(self) -> None:
        assert self._ws is not None
        async for frame in self._ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            if "id" in message:
                answer = self._answers.pop(message["id"], None)
                if answer is not None and not answer.done():
                    answer.set_result(message)
                continue
            session_id = message.get("sessionId")
            tab = self._tabs.get(session_id or "")
            if tab is not None:
                tab.events.append(message)
            for waiter in list(self._waiters):
                method, wanted, future = waiter
                if method == message.get("method") and wanted == session_id:
                    self._waiters.remove(waiter)
                    if not future.done():
                        future.set_result(message)

    @contextlib.asynccontextmanager
    async def page(self) -> AsyncIterator[Tab]:
        """A new tab with the page, network, log and runtime domains on; closed afterwards."""
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        tab = Tab(self, attached["sessionId"])
        self._tabs[tab.session_id] = tab
        for domain in ("Page", "Network", "Log", "Runtime"):
            await tab.send(f"{domain}.enable")
        try:
            yield tab
        finally:
            self._tabs.pop(tab.session_id, None)
            with contextlib.suppress(RuntimeError, TimeoutError):
                await self.send("Target.closeTarget", {"targetId": target["targetId"]})
