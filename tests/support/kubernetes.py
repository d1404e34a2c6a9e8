"""The Kubernetes package under deploy/kubernetes, as the tests read it: rendered by kustomize, or
file by file; every object checked against Kubernetes' own JSON schemas, offline.

Rendering needs `kubectl` (its built-in kustomize) on PATH: the Debian package is kubectl 1.20,
whose kustomize is too old for these files, so none is installed here; without kubectl the
rendering tests skip with the reason, in CI too, as the issue allows. Schemas
come from the `kubernetes-validate` package, which ships them (no network). The Prometheus
Operator's kinds (ServiceMonitor, PrometheusRule) have no schema there: the tests check those
by structure instead.
"""

from __future__ import annotations

import base64
import math
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils as schemas

from tests.support.promql import DEPLOY

__all__ = [
    "BASE",
    "CUSTOM_KINDS",
    "KUBERNETES",
    "KUBERNETES_VERSIONS",
    "PRODUCTION",
    "REDIS",
    "cpu_cores",
    "find",
    "kustomization",
    "memory_bytes",
    "prepared_copy",
    "raw_objects",
    "render",
    "require_kubectl",
    "resource_field_value",
    "schema_problems",
]

KUBERNETES = DEPLOY / "kubernetes"
BASE = KUBERNETES / "base"
PRODUCTION = KUBERNETES / "overlays" / "production"
REDIS = KUBERNETES / "redis"

KUBERNETES_VERSIONS = ("1.30", schemas.latest_version())
"""The oldest Kubernetes the manifests are written for (the preStop `sleep` action is on by
default from 1.30) and the newest whose schemas kubernetes-validate ships."""

CUSTOM_KINDS = frozenset({("monitoring.coreos.com/v1", "ServiceMonitor"),
                          ("monitoring.coreos.com/v1", "PrometheusRule")})  # fmt: skip
"""Kinds whose schemas come with their operator's CRDs, not with Kubernetes: checked by shape."""

PLACEHOLDER = "CHANGE_ME"
_KUBECTL_TIMEOUT_S = 60.0


def require_kubectl() -> str:
    """kubectl, or a skip with the reason: the issue lets rendering be skipped where kubectl is
    absent, even in CI (the files as written are schema-checked either way)."""
    path = shutil.which("kubectl")
    if path is None:
        pytest.skip(
            "no kubectl on PATH to render deploy/kubernetes with its kustomize (Debian's "
            "kubernetes-client is too old for these files; install a kubectl of 1.27 or newer)"
        )
    return path


def prepared_copy(destination: Path) -> Path:
    """deploy/kubernetes copied to `destination`, with the secrets.env files a deployer makes
    from the committed examples: fresh random values in place of every CHANGE_ME."""
    shutil.copytree(KUBERNETES, destination)
    for example in destination.rglob("*.env.example"):
        lines = []
        for line in example.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            lines.append(f"{key}={value.replace(PLACEHOLDER, _secret_for(key))}")
        example.with_name(example.name.removesuffix(".example")).write_text("\n".join(lines) + "\n")
    return destination


def _secret_for(key: str) -> str:
    if key == "PANJEREH_CACHE_ENCRYPTION_KEY":
        return base64.b64encode(os.urandom(32)).decode()
    return os.urandom(24).hex()


def render(kubectl: str, directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize directory`, parsed; a failure fails the test with kustomize's words."""
    done = subprocess.run(
        [kubectl, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=_KUBECTL_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory.name} failed:\n{done.stderr}")
    return [obj for obj in yaml.safe_load_all(done.stdout) if obj is not None]


def kustomization(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))


def raw_objects(directory: Path) -> list[dict[str, Any]]:
    """The objects of a kustomization's own `resources` files, as written (no kustomize): what
    can be checked where kubectl is absent. Other kustomizations it includes are left out."""
    objects = []
    for entry in kustomization(directory).get("resources", []):
        path = directory / entry
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            objects += [obj for obj in yaml.safe_load_all(text) if obj is not None]
    return objects


def find(objects: Iterable[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    matches = [
        obj
        for obj in objects
        if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name)
    ]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


def schema_problems(objects: Iterable[dict[str, Any]]) -> Iterator[str]:
    """What Kubernetes' schemas (strict: unknown fields are errors) say against each object, for
    every version in KUBERNETES_VERSIONS; custom kinds are skipped (see CUSTOM_KINDS)."""
    for obj in objects:
        if (obj.get("apiVersion"), obj.get("kind")) in CUSTOM_KINDS:
            continue
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except schemas.SchemaNotFoundError:
                yield f"{name}: no schema for {obj.get('apiVersion')} in Kubernetes {version}"
            except schemas.ValidationError as exc:
                path = ".".join(str(p) for p in exc.path)
                yield f"{name} (Kubernetes {version}) at {path or '/'}: {exc.message}"


_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+)(Ki|Mi|Gi|K|M|G)?$")
_MEMORY_UNITS = {None: 1, "K": 10**3, "M": 10**6, "G": 10**9,
                 "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}  # fmt: skip


def cpu_cores(quantity: str | int) -> float:
    match = _CPU.match(str(quantity))
    assert match, f"not a CPU quantity: {quantity!r}"
    value = float(match.group(1))
    return value / 1000 if match.group(2) else value


def memory_bytes(quantity: str | int) -> int:
    match = _MEMORY.match(str(quantity))
    assert match, f"not a memory quantity: {quantity!r}"
    return int(match.group(1)) * _MEMORY_UNITS[match.group(2)]


def resource_field_value(quantity: str | int, divisor: str | int = "1") -> str:
    """What a `resourceFieldRef` puts in the environment: the quantity in divisor units, rounded
    up (Kubernetes' rule), as an integer string."""
    return str(math.ceil(cpu_cores(quantity) / cpu_cores(divisor)))
