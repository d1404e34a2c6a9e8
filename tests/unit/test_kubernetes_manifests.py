"""The Kubernetes package (deploy/kubernetes): the kustomize base and production overlay render,
every object is valid against Kubernetes' schemas, and the pieces fit each other and the gateway:
selectors select the pods, references resolve, the production environment is a configuration the
gateway accepts, the drain fits the grace period, Prometheus finds the pods and the rules are the
ones promtool tests.

Rendering uses `kubectl kustomize` (tests/support/kubernetes.py: skipped with the reason
without kubectl, in CI too); the schemas are kubernetes-validate's, offline. The tests marked
"as written" need no kubectl and always run. Redis is Bitnami's chart (deploy/kubernetes/redis),
fetched only when deployed: its reference and values are checked against the gateway's objects,
not rendered.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import os
import posixpath
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from cache.redis import RedisCache
from connectors.registry import AGENCY_IDS
from settings import Settings
from tests.support.kubernetes import (
    BASE,
    KUBERNETES,
    PRODUCTION,
    REDIS,
    cpu_cores,
    find,
    kustomization,
    memory_bytes,
    prepared_copy,
    raw_objects,
    render,
    require_kubectl,
    resource_field_value,
    schema_problems,
)
from tests.support.promql import DEPLOY

PROMETHEUS = DEPLOY / "prometheus"
RULES_JOB = "panjereh"  # the job deploy/prometheus's rules select: up{job="panjereh"}
SECRET_KEYS = frozenset(
    {"PANJEREH_CACHE_KEY_SECRET", "PANJEREH_CACHE_ENCRYPTION_KEY", "PANJEREH_AUDIT__KEY_SECRET",
     "REDIS_URL"}
)  # fmt: skip
# Settings issue 10's other parts add to settings.py (workers; the drain): accepted by name until
# they are fields, then checked like every other.
PENDING_SETTINGS = frozenset({"PANJEREH_WORKERS", "PANJEREH_SHUTDOWN_GRACE_S"})
SHUTDOWN_GRACE_S = 20.0
PRESTOP_SLEEP_S = 5
# Sizing (bench/README.md, "Memory"): a worker levels off at ~150 MB with the default cache;
# 256Mi each, plus 128Mi for the supervisor and bursts.
WORKER_MEMORY = 256 * 2**20
SUPERVISOR_MEMORY = 128 * 2**20
GATEWAY_KINDS = Counter(
    {"ServiceAccount": 1, "ConfigMap": 1, "Deployment": 1, "Service": 2, "PodDisruptionBudget": 1,
     "HorizontalPodAutoscaler": 1, "NetworkPolicy": 1, "ServiceMonitor": 1, "PrometheusRule": 2}
)  # fmt: skip
PRODUCTION_KINDS = GATEWAY_KINDS + Counter({"Namespace": 1, "Secret": 1, "NetworkPolicy": 1})


# --- helpers -------------------------------------------------------------------------------


def env_file(path: Path) -> dict[str, str]:
    """A kustomize env file (KEY=VALUE lines, # comments) as a dict."""
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            pairs[key] = value
    return pairs


def kinds(objects: list[dict[str, Any]]) -> Counter[str]:
    return Counter(obj["kind"] for obj in objects)


def gateway_container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = [
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "gateway"
    ]
    return container


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def rule_files() -> dict[str, Path]:
    return {
        "panjereh-recording-rules": PROMETHEUS / "recording-rules.yml",
        "panjereh-alerts": PROMETHEUS / "alerts.yml",
    }


def prometheus_rule_module() -> ModuleType:
    path = KUBERNETES / "prometheus_rule.py"
    spec = importlib.util.spec_from_file_location("prometheus_rule", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_gateway_pod(deployment: dict[str, Any], config: dict[str, str]) -> None:
    """What every gateway pod must be, whatever the overlay: hardened, probed, drained within its
    grace period, one worker per requested core, sized from the bench's figures."""
    pod = deployment["spec"]["template"]["spec"]
    container = gateway_container(deployment)

    # Hardened: the restricted Pod Security Standard and a read-only root.
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    # A Service named `panjereh` would otherwise inject PANJEREH_PORT=tcp://... (refused).
    assert pod["enableServiceLinks"] is False

    # Writable places are volumes: the audit file's directory and /tmp.
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert posixpath.dirname(config["PANJEREH_AUDIT__PATH"]) in mounts
    assert "/tmp" in mounts

    # Probes on the gateway's own port.
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == int(config["PANJEREH_PORT"])
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"),
                        ("readinessProbe", "/readyz")):  # fmt: skip
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}, probe

    # The drain (issue 10): grace 20 s, the pod's grace period 10 s longer, a ~5 s preStop sleep
    # so endpoints go before SIGTERM, and time left to exit after the drain.
    grace = float(config["PANJEREH_SHUTDOWN_GRACE_S"])
    assert grace == SHUTDOWN_GRACE_S
    assert pod["terminationGracePeriodSeconds"] == grace + 10
    assert container["lifecycle"]["preStop"] == {"sleep": {"seconds": PRESTOP_SLEEP_S}}
    assert PRESTOP_SLEEP_S + grace < pod["terminationGracePeriodSeconds"]

    # One worker per requested core, Guaranteed QoS, memory per worker.
    resources = container["resources"]
    assert resources["requests"] == resources["limits"]
    cores = cpu_cores(resources["requests"]["cpu"])
    assert cores >= 1 and cores == int(cores), "whole cores: one worker each"
    workers = {e["name"]: e for e in container["env"]}["PANJEREH_WORKERS"]["valueFrom"]
    ref = workers["resourceFieldRef"]
    assert (ref["containerName"], ref["resource"]) == ("gateway", "requests.cpu")
    worker_count = int(resource_field_value(resources["requests"]["cpu"], ref.get("divisor", 1)))
    assert worker_count == cores
    memory = memory_bytes(resources["requests"]["memory"])
    assert memory >= worker_count * WORKER_MEMORY + SUPERVISOR_MEMORY

    # Spread over zones and nodes.
    keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


# --- as written: no kubectl needed ------------------------------------------------------------


def test_prometheus_rule_file_is_generated_from_the_rule_files() -> None:
    generator = prometheus_rule_module()
    assert generator.OUTPUT.read_text(encoding="utf-8") == generator.render(), (
        "deploy/kubernetes/base/prometheusrule.yaml is out of date: run bin/prometheus-rule"
    )
    objects = raw_objects(BASE)
    for name, source in rule_files().items():
        rule = find(objects, "PrometheusRule", name)
        assert rule["spec"] == yaml.safe_load(source.read_text(encoding="utf-8")), name


def test_files_as_written_are_valid_kubernetes_objects() -> None:
    base, production = raw_objects(BASE), raw_objects(PRODUCTION)
    assert kinds(base) >= GATEWAY_KINDS - Counter({"ConfigMap": 1}), kinds(base)
    assert kinds(production) == Counter({"Namespace": 1, "NetworkPolicy": 1}), kinds(production)
    assert list(schema_problems(base + production)) == []


def test_the_schemas_refuse_a_misspelt_or_mistyped_field() -> None:
    deployment = find(raw_objects(BASE), "Deployment")
    misspelt = copy.deepcopy(deployment)
    gateway_container(misspelt)["resource"] = gateway_container(misspelt).pop("resources")
    mistyped = copy.deepcopy(deployment)
    mistyped["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "30"
    assert list(schema_problems([deployment])) == []
    assert any("'resource' was unexpected" in p for p in schema_problems([misspelt]))
    assert any("is not of type 'integer'" in p for p in schema_problems([mistyped]))


def test_base_gateway_pod_as_written() -> None:
    check_gateway_pod(find(raw_objects(BASE), "Deployment"), env_file(BASE / "config.env"))


def test_no_secret_is_committed_and_every_generated_one_has_an_ignored_file() -> None:
    for path in KUBERNETES.rglob("*.yaml"):
        for obj in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert not (obj and obj.get("kind") == "Secret"), f"{path}: a Secret in the repository"
    generated = 0
    for directory in (BASE, PRODUCTION, REDIS):
        for generator in kustomization(directory).get("secretGenerator", []):
            for name in generator["envs"]:
                generated += 1
                example = directory / f"{name}.example"
                assert example.is_file(), f"{example} missing"
                placeholders = env_file(example)
                assert placeholders, f"{example} lists no keys"
                for key, value in placeholders.items():
                    assert "CHANGE_ME" in value, f"{example}: {key} must hold a CHANGE_ME"
                if shutil.which("git") and (DEPLOY.parent / ".git").exists():
                    ignored = subprocess.run(
                        ["git", "check-ignore", "-q", str(directory / name)],
                        cwd=DEPLOY.parent,
                        check=False,
                    )
                    assert ignored.returncode == 0, f"{directory / name} is not ignored by git"
                else:
                    assert name in (directory / ".gitignore").read_text(encoding="utf-8")
    assert generated == 2  # the gateway's secrets and Redis's password
    assert set(env_file(PRODUCTION / "secrets.env.example")) == SECRET_KEYS


def test_redis_comes_from_a_pinned_chart_that_fits_the_gateway() -> None:
    redis = kustomization(REDIS)
    (chart,) = redis["helmCharts"]
    values = yaml.safe_load((REDIS / chart["valuesFile"]).read_text(encoding="utf-8"))
    release = chart["releaseName"]
    assert chart["name"] == "redis"
    assert chart["version"].count(".") == 2 and chart["version"].replace(".", "").isdigit()
    assert values["architecture"] == "replication" and values["sentinel"]["enabled"] is True
    assert values["replica"]["replicaCount"] >= 3 and values["sentinel"]["quorum"] == 2

    # The password: the chart's secret is the one generated beside it, under a fixed name.
    (auth,) = redis["secretGenerator"]
    assert auth["name"] == values["auth"]["existingSecret"]
    assert auth["options"]["disableNameSuffixHash"] is True
    key = values["auth"]["existingSecretPasswordKey"]
    assert set(env_file(REDIS / f"{auth['envs'][0]}.example")) == {key}

    # REDIS_URL names the release's Service on the sentinel port, the master set and a
    # sentinel password (auth.sentinel).
    url = urlsplit(env_file(PRODUCTION / "secrets.env.example")["REDIS_URL"])
    assert url.scheme == "redis+sentinel"
    assert (url.hostname, url.port) == (release, 26379)
    assert url.path.strip("/").split("/")[0] == values["sentinel"]["masterSet"]
    assert values["auth"]["sentinel"] is True and "sentinel_password" in parse_qs(url.query)

    # The gateway may reach those pods, and the chart's policy admits the gateway.
    policy = find(raw_objects(BASE), "NetworkPolicy", "panjereh")
    redis_rules = [
        rule
        for rule in policy["spec"]["egress"]
        for peer in rule["to"]
        if peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/instance")
        == release
    ]
    assert len(redis_rules) == 1
    assert {p["port"] for p in redis_rules[0]["ports"]} == {6379, 26379}
    assert values["networkPolicy"] == {"enabled": True, "allowExternal": False}
    labels = find(raw_objects(BASE), "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert labels[f"{release}-client"] == "true"

    # Nothing hand-written runs Redis.
    for directory in (BASE, PRODUCTION):
        assert "StatefulSet" not in kinds(raw_objects(directory))


# --- rendered with kubectl kustomize ------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    kubectl = require_kubectl()
    tree = prepared_copy(tmp_path_factory.mktemp("deploy") / "kubernetes")
    return {
        "base": render(kubectl, tree / "base"),
        "production": render(kubectl, tree / "overlays" / "production"),
    }


@pytest.mark.parametrize("overlay", ["base", "production"])
def test_every_rendered_object_is_valid(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    objects = rendered[overlay]
    assert kinds(objects) == (GATEWAY_KINDS if overlay == "base" else PRODUCTION_KINDS)
    assert list(schema_problems(objects)) == []


@pytest.mark.parametrize("overlay", ["base", "production"])
def test_selectors_select_the_gateway_pods(
    rendered: dict[str, list[dict[str, Any]]], overlay: str
) -> None:
    objects = rendered[overlay]
    deployment = find(objects, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    for service in (o for o in objects if o["kind"] == "Service"):
        assert selects(service["spec"]["selector"], pod_labels), service["metadata"]["name"]
        container_ports = {p["name"] for p in gateway_container(deployment)["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= container_ports
    assert selects(find(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
                   pod_labels)  # fmt: skip
    for policy in (o for o in objects if o["kind"] == "NetworkPolicy"):
        assert selects(policy["spec"]["podSelector"]["matchLabels"], pod_labels)
    for spread in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]:
        assert selects(spread["labelSelector"]["matchLabels"], pod_labels)
    target = find(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"


def test_production_references_resolve(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["production"]
    namespace = find(objects, "Namespace")["metadata"]["name"]
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {
        namespace
    }
    deployment = find(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("ServiceAccount", pod["serviceAccountName"]) in names
    sources = gateway_container(deployment)["envFrom"]
    assert [
        ("ConfigMap", s["configMapRef"]["name"]) if "configMapRef" in s
        else ("Secret", s["secretRef"]["name"])
        for s in sources
    ] == [("ConfigMap", find(objects, "ConfigMap")["metadata"]["name"]),
          ("Secret", find(objects, "Secret")["metadata"]["name"])]  # fmt: skip
    assert set(find(objects, "Secret")["data"]) == SECRET_KEYS
    image = gateway_container(deployment)["image"]
    assert "/" in image and not image.endswith(":latest") and (":" in image or "@" in image)


def test_production_pod(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["production"]
    deployment = find(objects, "Deployment")
    check_gateway_pod(deployment, find(objects, "ConfigMap")["data"])
    cores = cpu_cores(gateway_container(deployment)["resources"]["requests"]["cpu"])
    assert cores > 1, "production runs several workers a pod"
    autoscaler = find(objects, "HorizontalPodAutoscaler")["spec"]
    assert autoscaler["minReplicas"] >= 3, "at least one pod a zone"


def test_production_environment_is_a_valid_production_configuration(
    rendered: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rendered ConfigMap, Secret (the example's keys, random values) and env, put in the
    environment as Kubernetes would, are a configuration production mode accepts."""
    objects = rendered["production"]
    deployment = find(objects, "Deployment")
    container = gateway_container(deployment)
    environment = dict(find(objects, "ConfigMap")["data"])
    environment.update({k: base64_text(v) for k, v in find(objects, "Secret")["data"].items()})
    for entry in container["env"]:
        source = entry.get("valueFrom", {})
        if "fieldRef" in source:
            assert source["fieldRef"]["fieldPath"] == "metadata.name"
            environment[entry["name"]] = "panjereh-7d9f8c6b5-x2x4q"
        elif "resourceFieldRef" in source:
            ref = source["resourceFieldRef"]
            quantity = container["resources"][ref["resource"].split(".")[0]]["cpu"]
            environment[entry["name"]] = resource_field_value(quantity, ref.get("divisor", 1))
        else:
            environment[entry["name"]] = entry["value"]

    fields = Settings.model_fields
    for name in environment:
        if name == "REDIS_URL" or name in PENDING_SETTINGS - {
            f"PANJEREH_{f.upper()}" for f in fields
        }:
            continue
        assert name.startswith("PANJEREH_"), name
        assert name.removeprefix("PANJEREH_").split("__")[0].lower() in fields, name

    for name in [n for n in os.environ if n.startswith("PANJEREH_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("REDIS_URL", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.mode == "production" and settings.host == "0.0.0.0"
    assert set(settings.agency_urls) == set(AGENCY_IDS)
    assert settings.redis_url is not None and settings.redis_url.startswith("redis+sentinel://")
    RedisCache.from_url(settings.redis_url)  # parses (service name, sentinel password); no I/O
    assert settings.encryption_key is not None and len(settings.encryption_key) == 32
    assert settings.audit.instance_id == "panjereh-7d9f8c6b5-x2x4q"


def base64_text(value: str) -> str:
    return base64.b64decode(value).decode()


def test_prometheus_operator_objects_by_structure(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    """ServiceMonitor and PrometheusRule have no schema offline (their CRDs are the operator's):
    the monitor must scrape the headless Service's port as job `panjereh`, the rules must be the
    rule files, and the Prometheus selector label must be on both."""
    objects = rendered["production"]
    monitor = find(objects, "ServiceMonitor")
    chosen = [
        s for s in objects
        if s["kind"] == "Service" and selects(monitor["spec"]["selector"]["matchLabels"],
                                              s["metadata"]["labels"])
    ]  # fmt: skip
    assert [s["metadata"]["name"] for s in chosen] == ["panjereh-pods"]
    (service,) = chosen
    assert service["spec"]["clusterIP"] == "None"
    assert service["metadata"]["labels"][monitor["spec"]["jobLabel"]] == RULES_JOB
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    for name, source in rule_files().items():
        rule = find(objects, "PrometheusRule", name)
        assert rule["spec"] == yaml.safe_load(source.read_text(encoding="utf-8"))
        assert "release" in rule["metadata"]["labels"]
    assert "release" in monitor["metadata"]["labels"]


def test_prometheus_example_config_finds_the_pods(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["production"]
    service = find(objects, "Service", "panjereh-pods")
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == RULES_JOB]
    (discovery,) = job["dns_sd_configs"]
    namespace = service["metadata"]["namespace"]
    assert discovery["names"] == [f"panjereh-pods.{namespace}.svc.cluster.local"]
    assert discovery["port"] == service["spec"]["ports"][0]["port"]
