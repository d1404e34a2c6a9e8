"""Planned maintenance of agencies: nightly windows from config, one-off windows set by ops,
what the pipeline asks on every call, and the cache refresh shortly before a window.

    config      MaintenanceSettings (`PANJEREH_MAINTENANCE__…`)
    nightly     NightlyWindow: "00:00-02:00" in Tehran wall-clock time
    store       where one-off windows live: memory, or a Redis hash every instance reads
    calendar    MaintenanceCalendar: a `MaintenanceSource`, plus `active()`/`next()` for the hot
                path and `add_window()`/`remove_window()`/`windows()` for ops
    pre_window  PreWindowRefresh: recently used operations re-run before a window starts
"""

from observability.maintenance.calendar import MaintenanceCalendar, WindowLimits
from observability.maintenance.config import MaintenanceSettings
from observability.maintenance.nightly import NightlyWindow
from observability.maintenance.pre_window import PreWindowRefresh, stale_shortfalls
from observability.maintenance.store import MemoryWindowStore, RedisWindowStore, WindowStore

__all__ = [
    "MaintenanceCalendar",
    "MaintenanceSettings",
    "MemoryWindowStore",
    "NightlyWindow",
    "PreWindowRefresh",
    "RedisWindowStore",
    "WindowLimits",
    "WindowStore",
    "stale_shortfalls",
]
