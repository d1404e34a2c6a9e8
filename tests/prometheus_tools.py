"""Prometheus' own checkers for the deploy/ files: `promtool` and `amtool`.

Where a tool comes from (`find_tool`, once per session):

1. PATH;
2. else, when the tests run as root with `apt-get` (CI here does), Debian's package is installed:
   `prometheus` ships `promtool`, `prometheus-alertmanager` ships `amtool` (the package lists are
   updated first only when the package is not found). Installing takes a minute or two, once;
3. else, under `CI=true`, the test FAILS: the rules' promtool tests never skip silently in CI.
   Elsewhere they are skipped with the reason.

Installing the packages does not start their services here: the tests only run the checkers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from typing import NoReturn

import pytest

from tests.redis_server import in_ci

__all__ = ["DEBIAN_PACKAGES", "find_tool", "require_tool", "tool_unavailable"]

DEBIAN_PACKAGES = {"promtool": "prometheus", "amtool": "prometheus-alertmanager"}
_APT_TIMEOUT_S = 900.0


def tool_unavailable(reason: str) -> NoReturn:
    """Fail under CI=true (these checks must run there), skip elsewhere."""
    if in_ci():
        pytest.fail(f"required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@cache
def find_tool(name: str) -> tuple[str | None, str]:
    """`(path, how)`: the tool's path or None, and what was tried (for a skip message)."""
    on_path = shutil.which(name)
    if on_path:
        return on_path, "on PATH"
    package = DEBIAN_PACKAGES[name]
    if os.geteuid() != 0:
        return None, f"no {name} on PATH (as root: apt-get install {package})"
    if shutil.which("apt-get") is None:
        return None, f"no {name} on PATH and no apt-get to install Debian's {package}"
    problem = _apt_install(package)
    on_path = shutil.which(name)
    if on_path:
        return on_path, f"installed Debian's {package}"
    return None, f"no {name} on PATH and apt-get install {package} failed: {problem}"


def require_tool(name: str) -> str:
    """The tool's path, or skip (fail under CI=true) saying why there is none."""
    path, how = find_tool(name)
    if path is None:
        tool_unavailable(how)
    return path


def _apt_install(package: str) -> str:
    """Install a Debian package; '' when it went well, else the tail of apt-get's output."""
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    done = _apt(install)
    if done.returncode != 0:  # the package lists may be missing or stale: update once, retry
        _apt(["apt-get", "update"])
        done = _apt(install)
    if done.returncode == 0:
        return ""
    return " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:]) or "(no output)"


def _apt(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=_APT_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(command, 1, "", f"{command[0]}: {exc}")
