"""How many cores this process may use: production's default number of workers.

The affinity mask (what `taskset`/cpusets allow), capped by a cgroup CPU quota when one is set:
a container limited to 2 CPUs on a 32-core node sees 32 cores in its mask, and 32 workers there
would share 2 CPUs' worth of time. The quota is rounded up (1.5 CPUs: 2 workers).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["cgroup_cpu_limit", "usable_cores"]

_CGROUP = Path("/sys/fs/cgroup")


def usable_cores(cgroup: Path = _CGROUP) -> int:
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+: the affinity mask
    if counter is not None:
        cores = int(counter() or 1)
    elif hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0)) or 1
    else:
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit(cgroup)
    return max(1, min(cores, math.ceil(limit))) if limit else cores


def cgroup_cpu_limit(cgroup: Path = _CGROUP) -> float | None:
    """CPUs' worth of time the cgroup quota allows (v2 `cpu.max`, else v1 `cpu.cfs_*`); None
    without a quota or a readable cgroup file."""
    try:
        quota, _, period = (cgroup / "cpu.max").read_text().partition(" ")
        if quota.strip() == "max":
            return None
        return int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        pass
    try:
        quota_us = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None
