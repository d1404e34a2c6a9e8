"""What a gateway process does differently when it is one of several workers on a port.

It learns its slot (and its readiness pipe) from the environment the supervisor gave it, binds
with SO_REUSEPORT, writes its own audit chain (one file and chain id per slot: two processes
appending one hash chain would break it), says which worker answered (`X-Panjereh-Worker`, the
slot, never the pid) and tells the supervisor once its socket is bound. Everything else, the
shutdown path included, is the single-process gateway's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from settings import Settings
from workers.processes import READY_FD_ENV, SLOT_ENV

__all__ = ["WORKER_HEADER", "WorkerIdentity", "settings_for_slot"]

WORKER_HEADER = "X-Panjereh-Worker"
_MAX_CHAIN_ID = 64  # AuditSettings.instance_id's pattern


@dataclass(frozen=True)
class WorkerIdentity:
    """This process's slot under a supervisor, and where to say it is ready."""

    slot: int
    ready_fd: int | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> WorkerIdentity | None:
        """None for a process started by hand (it serves alone, or supervises)."""
        slot = environ.get(SLOT_ENV)
        if slot is None:
            return None
        fd = environ.get(READY_FD_ENV)
        return cls(int(slot), int(fd) if fd else None)

    def ready_notifier(self) -> Callable[[], None] | None:
        """For `server.serve(listening=…)`, called once the socket is bound and listening."""
        fd = self.ready_fd
        if fd is None:
            return None
        said = False

        def ready() -> None:
            nonlocal said
            if not said:
                said = True
                os.write(fd, b"ready\n")
                os.close(fd)

        return ready

    def install(self, app: web.Application) -> None:
        """Every answer names the worker's slot (to see the spread, and which one failed)."""
        value = str(self.slot)

        async def name_worker(request: web.Request, response: web.StreamResponse) -> None:
            response.headers[WORKER_HEADER] = value

        app.on_response_prepare.append(name_worker)


def settings_for_slot(settings: Settings, slot: int) -> Settings:
    """Slot 0 keeps the configured audit file and chain (one worker or many, the chain goes
    on); slot k writes `<stem>.w<k><suffix>` under chain id `<id>-w<k>`, stable across restarts
    of that slot. `audit verify` takes each file; with Redis every chain also has its stream."""
    if slot == 0:
        return settings
    audit = settings.audit
    path = audit.file_path
    suffix = f"-w{slot}"
    chain_id = audit.chain_id[: _MAX_CHAIN_ID - len(suffix)] + suffix
    worker_audit = audit.model_copy(
        update={
            "path": path.with_name(f"{path.stem}.w{slot}{path.suffix}"),
            "instance_id": chain_id,
        }
    )
    return settings.model_copy(update={"audit": worker_audit})
