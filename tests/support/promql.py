"""What the deploy/ files may name in PromQL: the gateway's metrics, the recording rules, `up`.

Expressions are parsed with promql-parser (the Rust parser's Python binding), so a name in a
label matcher, a string or a `by (...)` clause is never mistaken for a metric, and a typo in an
expression fails to parse instead of passing unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import yaml
from prometheus_client import CollectorRegistry

__all__ = [
    "DEPLOY",
    "SCRAPE_SERIES",
    "exported_names",
    "load_rule_groups",
    "recording_rule_names",
    "rules_in",
    "selector_names",
]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SCRAPE_SERIES = frozenset({"up"})
"""Series Prometheus writes itself for every target."""

_SERIES_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "info": ("_info",),
    "gauge": ("",),
}
_GRAFANA_INTERVAL = re.compile(r"\$\{?__(?:rate_interval|interval|range)\}?")


def exported_names(registry: CollectorRegistry) -> set[str]:
    """Every series name the registry's families can expose, labelled children or not."""
    names: set[str] = set()
    for family in registry.collect():
        suffixes = _SERIES_SUFFIXES.get(family.type, ("",))
        names.update(family.name + suffix for suffix in suffixes)
        names.update(sample.name for sample in family.samples)
    return names


def selector_names(expr: str) -> set[str]:
    """Metric names of every selector in a PromQL expression (Grafana's `$__rate_interval` and
    friends are read as 5m). Raises ValueError if it does not parse or a selector has no name."""
    text = _GRAFANA_INTERVAL.sub("5m", expr)
    try:
        ast = promql_parser.parse(text)
    except Exception as exc:  # the binding raises its own error types
        raise ValueError(f"does not parse: {text!r}: {exc}") from exc
    names: set[str] = set()
    nameless: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            else:
                nameless.append(str(node))

    promql_parser.walk(ast, visit)
    if nameless:
        raise ValueError(f"selector without a metric name in {expr!r}: {nameless}")
    return names


def load_rule_groups(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["groups"])


def rules_in(*paths: Path) -> Iterator[dict[str, Any]]:
    for path in paths:
        for group in load_rule_groups(path):
            yield from group["rules"]


def recording_rule_names(*paths: Path) -> set[str]:
    return {rule["record"] for rule in rules_in(*paths) if "record" in rule}
