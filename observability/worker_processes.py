"""`process_*` series of every worker, when several gateway processes share a port.

In prometheus-client's multiprocess mode a custom collector runs only in the worker that answers
the scrape, so its ProcessCollector alone would pass one worker's CPU and memory off as the
host's. The supervisor instead keeps the live workers' pids in `workers.json` in the metrics
directory, and whichever worker answers reads each one's /proc entry, labelled `worker="<slot>"`
(bounded: 0 … N-1). `sum by (instance) (rate(process_cpu_seconds_total[…]))` is then the host's
CPU; a replaced worker's counter starts again from zero, which `rate` reads as a reset.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = ["WORKERS_FILE", "WorkerProcessCollector", "read_worker_pids", "write_worker_pids"]

WORKERS_FILE = "workers.json"


def write_worker_pids(directory: str | Path, pids: Mapping[int, int]) -> None:
    """Record slot → pid of the live workers (replaced atomically: a scrape never reads half)."""
    target = Path(directory) / WORKERS_FILE
    partial = target.with_name(f".{WORKERS_FILE}.{os.getpid()}")
    partial.write_text(json.dumps({str(slot): pid for slot, pid in sorted(pids.items())}))
    partial.replace(target)


def read_worker_pids(directory: str | Path) -> dict[str, int]:
    """Slot → pid as the supervisor last wrote it; empty when there is no such file yet."""
    try:
        raw = json.loads((Path(directory) / WORKERS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(slot): pid for slot, pid in raw.items() if isinstance(pid, int)}


class WorkerProcessCollector(Collector):
    """prometheus-client's process metrics for each live worker, with a `worker` label."""

    def __init__(
        self,
        directory: str | Path,
        *,
        proc: str = "/proc",
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._directory = directory
        self._proc = proc
        if registry is not None:
            registry.register(self)

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for slot, pid in read_worker_pids(self._directory).items():
            one = ProcessCollector(pid=lambda pid=pid: pid, proc=self._proc, registry=None)
            for family in one.collect():  # nothing for a pid that is gone: no stale series
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "worker": slot}, sample.value)
        return list(families.values())
