"""Debian's headless Chromium for tests that look at a page as a person would, driven over the
DevTools protocol with aiohttp's WebSocket client (no other dependency).

Where the browser comes from (`find_chromium`), as tests/redis_server.py does for Redis:

1. `chromium` or `chromium-browser` on PATH;
2. else, running as root where apt-get exists, Debian's `chromium` package, installed once
   (`apt-get install -y chromium`, after `apt-get update` if that finds no such package);
3. else, under `CI=true`, the test FAILS (`chromium_unavailable`); elsewhere it is skipped with
   the reason.

`HeadlessChromium` starts one browser with a throwaway profile, no network beyond loopback
(every other host name resolves to nothing: a page that needs the internet fails as it would
on a cut-off network), and kills its process group on exit. `page()` opens a tab and records
what it asked the network for and what it logged, so a test can check both.

Screenshots go under one git-ignored directory, `tests/artifacts/` (another one with
`PANJEREH_TEST_ARTIFACTS`), a subdirectory per test: `artifacts_dir(name)`.
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
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.redis_server import in_ci

__all__ = [
    "HeadlessChromium",
    "Page",
    "artifacts_dir",
    "chromium_unavailable",
    "find_chromium",
]

_NAMES = ("chromium", "chromium-browser")
_ARTIFACTS_ENV = "PANJEREH_TEST_ARTIFACTS"
_ARTIFACTS_DEFAULT = Path(__file__).resolve().parents[1] / "artifacts"  # tests/artifacts/
_INSTALL_TIMEOUT_S = 900.0
_START_TIMEOUT_S = 30.0
_COMMAND_TIMEOUT_S = 30.0
_LOG = "stderr.log"
# The bounding box of the element a selector finds, in page coordinates, for a clipped shot.
_ELEMENT_BOX = (
    "(() => {{ const r = document.querySelector({selector}).getBoundingClientRect();"
    " return {{x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}}; }})()"
)


def artifacts_dir(name: str) -> Path:
    """Where a test keeps what a person would look at afterwards (created on first write)."""
    return Path(os.environ.get(_ARTIFACTS_ENV) or _ARTIFACTS_DEFAULT) / name


def chromium_unavailable(reason: str) -> NoReturn:
    """Fail under CI=true (browser tests must run there), skip elsewhere."""
    if in_ci():
        pytest.fail(f"Chromium is required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"no Chromium for this test: {reason}")


@cache
def find_chromium(*, install: bool = True) -> str | None:
    """A Chromium executable: PATH first, then Debian's package installed with apt-get."""
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return found
    if not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    if not _apt_get("install", "-y", "chromium"):
        _apt_get("update")
        _apt_get("install", "-y", "chromium")
    return next(filter(None, map(shutil.which, _NAMES)), None)


def _apt_get(*args: str) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(
            ["apt-get", "-q", *args],
            capture_output=True, env=env, timeout=_INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _endpoint_in(port_file: Path) -> str | None:
    """The browser's DevTools WebSocket address, from the file Chromium writes once it listens
    (its port, then its path), if it is there yet."""
    try:
        port, path = port_file.read_text().split()[:2]
        return f"ws://127.0.0.1:{int(port)}{path}"
    except (OSError, ValueError):
        return None


@dataclass
class Page:
    """One tab: commands go to its DevTools session; its network requests and log lines are
    kept as they come."""

    browser: HeadlessChromium
    session_id: str
    requested: list[str] = field(default_factory=list)
    logged: list[str] = field(default_factory=list)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await self.browser.send(method, params, session_id=self.session_id)

    def expect(self, method: str) -> asyncio.Future[dict[str, Any]]:
        """A future for this tab's next `method` event (register before causing it)."""
        return self.browser.expect(method, self.session_id)

    async def open(
        self, url: str, *, width: int = 1280, height: int = 800, mobile: bool = False
    ) -> None:
        """Set the viewport (`mobile` emulates a phone), load `url`, wait for its load event."""
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width, height=height, deviceScaleFactor=1, mobile=mobile,
        )  # fmt: skip
        loaded = self.expect("Page.loadEventFired")
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(loaded, _COMMAND_TIMEOUT_S)

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page, promises awaited (the page's
        own CSP does not apply to the DevTools protocol)."""
        answer = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in answer:
            raise AssertionError(f"{expression!r} threw: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def wait_for(self, expression: str, *, timeout_s: float = 20.0) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"still falsy after {timeout_s} s: {expression}")
            await asyncio.sleep(0.1)

    async def screenshot(
        self, path: Path, *, full_page: bool = False, selector: str | None = None
    ) -> Path:
        """A PNG of the viewport, of the whole page, or of the element `selector` finds,
        written to `path`."""
        params: dict[str, Any] = {"format": "png"}
        clip: dict[str, Any] | None = None
        if full_page:
            size = (await self.send("Page.getLayoutMetrics"))["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
        elif selector is not None:
            clip = await self.evaluate(_ELEMENT_BOX.format(selector=json.dumps(selector)))
        if clip is not None:
            params |= {"captureBeyondViewport": True, "clip": {**clip, "scale": 1}}
        shot = await self.send("Page.captureScreenshot", **params)
        path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))
        return path

    def requested_elsewhere(self, url: str) -> list[str]:
        """What the page asked for from any origin but `url`'s (inline `data:` URLs aside)."""
        origin = urlsplit(url).netloc
        return [
            asked
            for asked in self.requested
            if not asked.startswith("data:") and urlsplit(asked).netloc != origin
        ]

    def _on(self, method: str, params: dict[str, Any]) -> None:
        if method == "Network.requestWillBeSent":
            self.requested.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.logged.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            self.logged.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded":  # a CSP violation or a failed load is one
            entry = params["entry"]
            self.logged.append(f"{entry['source']}.{entry['level']}: {entry['text']}")


class HeadlessChromium:
    """A headless Chromium process and its DevTools connection (`async with`)."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self._profile = tempfile.TemporaryDirectory(prefix="panjereh-chromium-")
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._waiters: list[tuple[str, str | None, asyncio.Future[dict[str, Any]]]] = []
        self._pages: dict[str, Page] = {}

    async def __aenter__(self) -> HeadlessChromium:
        profile = Path(self._profile.name)
        command = [
            self.binary,
            "--headless=new",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--mute-audio",
            "about:blank",
        ]
        if os.geteuid() == 0:  # Chromium's sandbox refuses to run as root
            command.insert(1, "--no-sandbox")
        with (profile / _LOG).open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                *command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its helpers share the group, killed together on exit
            )
        try:
            endpoint = await self._endpoint(profile / "DevToolsActivePort")
            self._session = aiohttp.ClientSession()
            self._socket = await self._session.ws_connect(endpoint, max_msg_size=0)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        self._reader = asyncio.create_task(self._read())
        return self

    async def _endpoint(self, port_file: Path) -> str:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.returncode is not None:
                raise RuntimeError(f"Chromium exited at start: {self.log_tail()}")
            endpoint = await asyncio.to_thread(_endpoint_in, port_file)
            if endpoint is not None:
                return endpoint
            await asyncio.sleep(0.05)
        raise RuntimeError(f"Chromium did not open its DevTools port: {self.log_tail()}")

    def log_tail(self, lines: int = 10) -> str:
        """The end of Chromium's own log, for a failure message."""
        path = Path(self._profile.name) / _LOG
        with contextlib.suppress(OSError):
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._socket is not None:
            await self._socket.close()
        if self._session is not None:
            await self._session.close()
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            await asyncio.wait_for(self._process.wait(), 10)
        self._profile.cleanup()

    @contextlib.asynccontextmanager
    async def page(self) -> AsyncIterator[Page]:
        """A new tab, with page, network, runtime and log events on; closed afterwards."""
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, attached["sessionId"])
        self._pages[page.session_id] = page
        for domain in ("Page", "Network", "Runtime", "Log"):
            await page.send(f"{domain}.enable")
        try:
            yield page
        finally:
            del self._pages[page.session_id]
            with contextlib.suppress(RuntimeError, TimeoutError):
                await self.send("Target.closeTarget", {"targetId": target["targetId"]})

    async def send(
        self, method: str, params: dict[str, Any] | None = None, *, session_id: str | None = None
    ) -> dict[str, Any]:
        """Send one DevTools command and wait for its answer."""
        assert self._socket is not None
        command_id = next(self._ids)
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        reply = self._replies[command_id] = asyncio.get_running_loop().create_future()
        await self._socket.send_str(json.dumps(message))
        answer = await asyncio.wait_for(reply, _COMMAND_TIMEOUT_S)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def expect(self, method: str, session_id: str | None) -> asyncio.Future[dict[str, Any]]:
        """A future for the next `method` event of the session (register before causing it)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((method, session_id, waiter))
        return waiter

    async def _read(self) -> None:
        assert self._socket is not None
        async for frame in self._socket:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            if "id" in message:
                reply = self._replies.pop(message["id"], None)
                if reply is not None and not reply.done():
                    reply.set_result(message)
                continue
            method, session_id = message.get("method", ""), message.get("sessionId")
            page = self._pages.get(session_id or "")
            if page is not None:
                page._on(method, message.get("params", {}))
            for waiter in [w for w in self._waiters if w[:2] == (method, session_id)]:
                self._waiters.remove(waiter)
                if not waiter[2].done():
                    waiter[2].set_result(message.get("params", {}))
