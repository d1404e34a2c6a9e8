"""The Grafana dashboard (deploy/grafana/panjereh.json): valid JSON Grafana can import, the
panels ops and the runbooks rely on, and PromQL that names only what the gateway exports (its
metrics registry, the recording rules, `up`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.promql import DEPLOY, selector_names
from tests.unit.test_alert_rules import RUNBOOKS, allowed_names

DASHBOARD = DEPLOY / "grafana" / "panjereh.json"
PANEL_TYPES = {"row", "timeseries", "state-timeline", "bargauge", "stat", "table"}
REQUIRED_PANELS = {
    # agencies
    "Agency state",
    "Availability, 24 h",
    "Availability, 7 d",
    "Agency latency p95",
    "Failure ratio",
    "Calls by outcome",
    "Call error ratio",
    "Stale copies served",
    "Circuits",
    "Forced circuits",
    "Maintenance",
    # probes
    "Probes by outcome",
    "Probe success",
    # gateway
    "Instances up",
    "GraphQL requests by outcome",
    "GraphQL latency",
    "GraphQL error ratio",
    # cache
    "Cache lookups",
    "Cache hit ratio",
    "Cache degraded",
    # audit
    "Audit pending",
}
_LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>\w+)\)$")


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def all_panels() -> Iterator[dict[str, Any]]:
    for panel in dashboard()["panels"]:
        yield panel
        yield from panel.get("panels", [])  # collapsed rows hold their panels


def expressions() -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every query: panel targets and the template variables."""
    for panel in all_panels():
        for target in panel.get("targets", []):
            yield f"{panel['title']} / {target['refId']}", target["expr"]
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            match = _LABEL_VALUES.match(variable["definition"])
            assert match, f"${variable['name']}: only label_values(selector, label) is expected"
            yield f"${variable['name']}", match["selector"]


def test_dashboard_is_importable_json() -> None:
    board = dashboard()
    assert board["title"] == "Panjereh"
    assert board["uid"] == "panjereh"
    assert isinstance(board["schemaVersion"], int)
    ids = [panel["id"] for panel in all_panels()]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["agency"]["includeAll"]


def test_dashboard_has_the_panels_ops_need() -> None:
    titles = {panel["title"] for panel in all_panels()}
    missing = REQUIRED_PANELS - titles
    assert not missing, f"missing panels: {sorted(missing)}"


def test_every_panel_is_laid_out_and_queries_the_chosen_datasource() -> None:
    for panel in all_panels():
        assert panel["type"] in PANEL_TYPES, panel["title"]
        pos = panel["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"{panel['title']} queries nothing"
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def test_panels_the_runbooks_name_exist() -> None:
    """docs/runbooks.md sends ops to panels by their quoted title: they must be there."""
    titles = {panel["title"] for panel in all_panels()} | {dashboard()["title"]}
    text = RUNBOOKS.read_text(encoding="utf-8")
    quoted = {" ".join(q.split()) for q in re.findall(r'"([A-Z][^"]*)"', text)}  # lines wrap
    assert quoted, "the runbooks name no panel"
    assert not quoted - titles, f"runbooks name panels the dashboard lacks: {quoted - titles}"


@pytest.mark.parametrize("where, expr", list(expressions()), ids=lambda v: str(v)[:60])
def test_every_expression_names_only_exported_metrics(where: str, expr: str) -> None:
    names = selector_names(expr)
    assert names, f"{where}: no metric"
    unknown = names - allowed_names()
    assert not unknown, f"{where}: not exported by the gateway nor recorded: {sorted(unknown)}"


def test_expressions_are_found_in_every_panel() -> None:
    assert len(list(expressions())) >= len(REQUIRED_PANELS)
