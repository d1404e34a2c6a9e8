"""The example Alertmanager configuration (deploy/alertmanager/alertmanager.yml): it loads, each
severity reaches its receiver, and its inhibitions name alerts that exist.

`amtool` comes from PATH, else Debian's `prometheus-alertmanager` when running as root (see
tests/prometheus_tools.py); without it the amtool tests skip, except under CI=true.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
import yaml

from tests.prometheus_tools import require_tool
from tests.support.promql import DEPLOY, rules_in

CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
RECEIVER_OF = {"page": "oncall-pager", "warn": "ops-channel", "info": "null"}
_MATCHER = re.compile(r'^\s*(\w+)\s*(=~|!~|!=|=)\s*"(.*)"\s*$')
_AMTOOL_TIMEOUT_S = 60.0


def config() -> dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in rules_in(ALERTS) if "alert" in rule]


def test_routes_name_receivers_that_exist() -> None:
    cfg = config()
    receivers = {receiver["name"] for receiver in cfg["receivers"]}
    routes = [cfg["route"], *cfg["route"].get("routes", [])]
    assert {route["receiver"] for route in routes} <= receivers
    assert set(RECEIVER_OF.values()) <= receivers
    assert {"alertname", "agency"} <= set(cfg["route"]["group_by"])


def test_inhibitions_name_alerts_that_exist() -> None:
    names = {rule["alert"] for rule in alerts()}
    rules = config()["inhibit_rules"]
    assert any("GatewayDown" in " ".join(rule["source_matchers"]) for rule in rules)
    assert any("AgencyInMaintenance" in " ".join(rule["source_matchers"]) for rule in rules)
    for rule in rules:
        for matcher in [*rule["source_matchers"], *rule["target_matchers"]]:
            label, op, value = _MATCHER.match(matcher).groups()  # type: ignore[union-attr]
            if label != "alertname":
                continue
            if op in {"=", "!="}:
                assert value in names, matcher
            else:
                assert any(re.fullmatch(value, name) for name in names), matcher


# --- what the inhibitions hold back ------------------------------------------------------------
# Alertmanager's rule, read from its docs: an alert matching a rule's target is inhibited while
# an alert matching its source fires with the same `equal` labels; an alert matching both sides
# of a rule is never inhibited by one that also does (nor by itself).

Alert = dict[str, str]


def _matches(matchers: list[str], alert: Alert) -> bool:
    for matcher in matchers:
        label, op, value = _MATCHER.match(matcher).groups()  # type: ignore[union-attr]
        have = alert.get(label, "")
        hit = re.fullmatch(value, have) is not None if "~" in op else have == value
        if hit == op.startswith("!"):
            return False
    return True


def inhibited(firing: list[Alert]) -> list[Alert]:
    """The alerts of `firing` that Alertmanager holds back under this configuration."""
    held = []
    for target in firing:
        for rule in config()["inhibit_rules"]:
            source_side, target_side = rule["source_matchers"], rule["target_matchers"]
            if not _matches(target_side, target):
                continue
            both = _matches(source_side, target)
            if any(
                source is not target
                and _matches(source_side, source)
                and not (both and _matches(target_side, source))
                and all(source.get(k, "") == target.get(k, "") for k in rule.get("equal", []))
                for source in firing
            ):
                held.append(target)
                break
    return held


def _alert(name: str, agency: str = "water") -> Alert:
    severities = {rule["labels"]["severity"] for rule in alerts() if rule["alert"] == name}
    assert severities, f"no alert {name}"
    return {"alertname": name, "severity": min(severities), "agency": agency}  # page < warn


def test_maintenance_the_agency_announces_itself_is_not_held_back() -> None:
    """A proxy sending Retry-After with every 503 used to silence the agency for good: only
    planned maintenance fires the inhibiting alert, and the long announced one pages."""
    page = _alert("AgencyAnnouncedMaintenanceLong")
    warn = {**page, "severity": "warn"}
    assert page["severity"] == "page"
    assert inhibited([warn, page]) == [warn]  # the page outranks its own warning
    in_maintenance = next(rule for rule in alerts() if rule["alert"] == "AgencyInMaintenance")
    assert "panjereh_agency_announced_maintenance" not in in_maintenance["expr"]
    assert "panjereh_agency_maintenance" in in_maintenance["expr"]


def test_planned_maintenance_holds_back_every_alert_of_its_agency_only() -> None:
    planned = _alert("AgencyInMaintenance", "electricity")
    down, slow = _alert("AgencyDown", "electricity"), _alert("AgencySlow", "electricity")
    elsewhere = _alert("AgencyDown", "tax")
    assert inhibited([planned, down, slow, elsewhere]) == [down, slow]


def test_an_unstable_agency_pages_under_one_name() -> None:
    down, flapping, degraded = (
        _alert(name, "gas") for name in ("AgencyDown", "AgencyFlapping", "AgencyDegraded")
    )
    assert inhibited([down, degraded]) == [degraded]
    assert inhibited([down, flapping, degraded]) == [flapping, degraded]
    assert inhibited([flapping, degraded]) == [degraded]
    assert inhibited([degraded]) == []
    assert inhibited([_alert("GatewayDown", ""), degraded]) == [degraded]


@pytest.fixture(scope="module")
def amtool() -> str:
    return require_tool("amtool")


def _amtool(amtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [amtool, *args],
        capture_output=True,
        text=True,
        timeout=_AMTOOL_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_amtool_checks_the_config(amtool: str) -> None:
    done = _amtool(amtool, "check-config", str(CONFIG))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_each_alert_reaches_the_receiver_of_its_severity(amtool: str, rule: dict[str, Any]) -> None:
    expected = RECEIVER_OF[rule["labels"]["severity"]]
    done = _amtool(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        f"--verify.receivers={expected}",
        f"alertname={rule['alert']}",
        f"severity={rule['labels']['severity']}",
        "agency=tax",
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_wrong_receiver_is_noticed(amtool: str) -> None:
    done = _amtool(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        "--verify.receivers=ops-channel",
        "alertname=AgencyDown",
        "severity=page",
    )
    assert done.returncode != 0
