"""The Sandbox: sixteen agencies and an admin app on loopback, with faults set at run time."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from sandbox.admin import build_admin_app
from sandbox.agencies import AGENCIES, AGENCY_IDS
from sandbox.fault_middleware import make_fault_middleware
from sandbox.faults import AgencyFaults, FaultMode, FaultSpec
from sandbox.listener import Listener
from sandbox.maintenance import MaintenanceWindow


class UnknownAgencyError(KeyError):
    """An agency id that is not one of the sixteen."""

    def __init__(self, agency: str) -> None:
        super().__init__(agency)
        self.agency = agency

    def __str__(self) -> str:
        return f"unknown agency {self.agency!r}; known: {', '.join(AGENCY_IDS)}"


class Sandbox:
    """Simulated agencies, each on its own port so that "down" is a real connection refused.

    base_port 0 uses ephemeral ports; otherwise the admin app listens on base_port and the
    agencies on base_port+1.. in AGENCY_IDS order.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        base_port: int = 0,
        latency_ms: tuple[float, float] = (0, 0),
        seed: int = 1,
        maintenance_windows: Mapping[str, str] | None = None,
    ) -> None:
        low, high = latency_ms
        if not 0 <= low <= high:
            raise ValueError(
                f"latency_ms must be (min, max) with 0 <= min <= max, got {latency_ms}"
            )
        if not 0 <= base_port <= 65535 - len(AGENCY_IDS):
            raise ValueError(f"base_port out of range: {base_port}")
        self.host = host
        self.base_port = base_port
        self.latency_ms = (float(low), float(high))
        self.seed = seed
        self._faults = {agency_id: AgencyFaults(agency_id, seed) for agency_id in AGENCY_IDS}
        self._listeners: dict[str, Listener] = {}
        self._admin: Listener | None = None
        for agency_id, window in (maintenance_windows or {}).items():
            self.set_maintenance_window(agency_id, window)

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> dict[str, str]:
        """Open every agency and the admin app; returns agency id -> base URL."""
        if self._admin is not None:
            return self.urls
        try:
            for index, agency in enumerate(AGENCIES):
                state = self._faults[agency.agency_id]
                middleware = make_fault_middleware(state, agency.style, self.latency_ms)
                port = self.base_port + 1 + index if self.base_port else 0
                listener = Listener(agency.build_app([middleware]), self.host, port)
                self._listeners[agency.agency_id] = listener
                await listener.start()
                if state.spec.mode == "down":
                    await listener.close()
            admin = Listener(build_admin_app(self), self.host, self.base_port)
            self._admin = admin
            await admin.start()
        except BaseException:
            await self.stop()
            raise
        return self.urls

    @property
    def urls(self) -> dict[str, str]:
        return {agency_id: listener.url for agency_id, listener in self._listeners.items()}

    @property
    def admin_url(self) -> str:
        if self._admin is None:
            raise RuntimeError("the sandbox is not started")
        return self._admin.url

    def _state(self, agency: str) -> AgencyFaults:
        try:
            return self._faults[agency]
        except KeyError:
            raise UnknownAgencyError(agency) from None

    def fault(self, agency: str) -> FaultSpec:
        return self._state(agency).spec

    async def set_fault(self, agency: str, spec: FaultSpec | FaultMode) -> FaultSpec:
        """Apply a fault now; `down` closes the agency's socket, anything else reopens it."""
        state = self._state(agency)
        spec = FaultSpec(mode=spec) if isinstance(spec, str) else spec
        state.set(spec)
        listener = self._listeners.get(agency)
        if listener is not None:
            await (listener.close() if spec.mode == "down" else listener.open())
        return spec

    async def clear_fault(self, agency: str) -> FaultSpec:
        return await self.set_fault(agency, FaultSpec())

    def set_maintenance_window(self, agency: str, window: str | None) -> None:
        """Daily window like "00:00-02:00" (Tehran time) answering maintenance; None removes it."""
        self._state(agency).window = None if window is None else MaintenanceWindow.parse(window)

    def maintenance_window(self, agency: str) -> str | None:
        window = self._state(agency).window
        return None if window is None else str(window)

    def calls(self, agency: str) -> int:
        """HTTP requests the agency received (faulted ones too; refused connections are not)."""
        return self._state(agency).calls

    def health_calls(self, agency: str) -> int:
        """Requests to the agency's `GET /health` (the gateway's probes), not in `calls`."""
        return self._state(agency).health_calls

    def request_ids(self, agency: str) -> list[str | None]:
        """The `X-Request-Id` of the agency's latest calls (None: sent without one), oldest
        first; the last 50 are kept."""
        return list(self._state(agency).request_ids)

    def health_request_ids(self, agency: str) -> list[str | None]:
        """The same for `GET /health` requests (the gateway's probes)."""
        return list(self._state(agency).health_request_ids)

    def reset_calls(self) -> None:
        for state in self._faults.values():
            state.calls = 0
            state.health_calls = 0
            state.request_ids.clear()
            state.health_request_ids.clear()

    async def reset(self) -> None:
        """All agencies up, maintenance windows removed, counters and random streams restarted."""
        for agency_id in AGENCY_IDS:
            self._faults[agency_id].window = None
            await self.clear_fault(agency_id)
        self.reset_calls()

    def describe(self) -> dict[str, dict[str, Any]]:
        """State of every agency, as the admin app's GET /agencies shows it."""
        return {
            agency_id: {
                "url": self._listeners[agency_id].url if agency_id in self._listeners else None,
                "fault": state.spec.model_dump(),
                "calls": state.calls,
                "health_calls": state.health_calls,
                "request_ids": list(state.request_ids),
                "health_request_ids": list(state.health_request_ids),
                "maintenance_window": None if state.window is None else str(state.window),
            }
            for agency_id, state in self._faults.items()
        }

    async def stop(self) -> None:
        """Close every port promptly; requests held by `hang` are released first."""
        for state in self._faults.values():
            state.closing = True
            state.release()
        listeners = [*self._listeners.values(), *([self._admin] if self._admin else [])]
        await asyncio.gather(*(listener.stop() for listener in listeners))
        self._listeners.clear()
        self._admin = None
        for state in self._faults.values():
            state.closing = False
