"""ScadaServer: the SCADA interface of a node, as the composition root builds and runs it.

    scada = ScadaServer(config.scada, clock, daemon.status, daemon.commands, daemon.events,
                        errors=daemon.errors, device=device_info(config, capacity_wh),
                        forward_write=<cluster hook or None>,
                        meters={"grid": lambda: daemon.store.snapshot().fresh("meter.grid")})
    daemon.core.extra_limits = <the devices' extra limits> + scada.power_limits  (chain both)
    await scada.start()            # TCP (and RTU when configured) + the lease/heartbeat supervisor
    ...
    await scada.stop()

Units: the control map on `config.unit_id`; the SunSpec device (base 40000) on `config.sunspec.unit_id`
(the same unit is fine, the addresses are disjoint); the meter gateway's original map on its own unit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping

from sitecontroller import __version__
from sitecontroller.config.scada import ScadaConfig
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.events import EventBus
from sitecontroller.runtime.commands import CommandSink
from sitecontroller.safety.errors import ErrorHandler
from sitecontroller.safety.limiter import PowerLimit
from sitecontroller.scada.access import AccessPolicy
from sitecontroller.scada.control import Rating, ScadaControl
from sitecontroller.scada.control_view import ControlMapView
from sitecontroller.scada.controlmap import ControlMap, load_control_map
from sitecontroller.scada.dispatch import Dispatcher, ForwardWrite, View
from sitecontroller.scada.meter_view import MeterMapView, MeterProvider
from sitecontroller.scada.protocol import Limits, ScadaRtuServer, ScadaTcpServer
from sitecontroller.scada.status_cache import StatusCache
from sitecontroller.scada.sunspec_points import DeviceInfo
from sitecontroller.scada.sunspec_view import SunSpecView

log = logging.getLogger(__name__)


def device_info(site: SiteConfig, capacity_wh: float = 0.0) -> DeviceInfo:
    """The node's identity and rating from the site configuration."""
    limits = site.limits
    rating = Rating(limits.max_charge_power_w, limits.max_discharge_power_w, capacity_wh)
    return DeviceInfo(site.identity.node_id, __version__, rating)


class ScadaServer:
    def __init__(
        self,
        config: ScadaConfig,
        clock: Clock,
        status_provider: Callable[[], Mapping[str, object]],
        commands: CommandSink,
        events: EventBus,
        *,
        errors: ErrorHandler,
        device: DeviceInfo,
        forward_write: ForwardWrite | None = None,
        meters: Mapping[str, MeterProvider] | None = None,
        control_map: ControlMap | None = None,
    ) -> None:
        """`meters`: role ("grid", "pv", "load") -> latest reading, for the meters this node owns."""
        self.config = config
        self.status = StatusCache(status_provider, clock, config.refresh_s)
        self.control = ScadaControl(config, clock, commands, errors, device.rating)
        cmap = control_map or load_control_map()
        self.control_view = ControlMapView(cmap, self.status, self.control, commands)
        units: dict[int, list[View]] = {config.unit_id: [self.control_view]}
        gateway = config.meter_gateway
        owned = dict(meters or {}) if gateway.enabled else {}
        self.sunspec: SunSpecView | None = None
        if config.sunspec.enabled:
            meter_203 = owned.get("grid") if gateway.sunspec_203 else None
            self.sunspec = SunSpecView(
                config.sunspec, device, self.status, self.control, commands, clock, meter_203
            )
            units.setdefault(config.sunspec.unit_id, []).append(self.sunspec)
        for meter in gateway.meters:
            if meter.role in owned:
                units[meter.unit_id] = [MeterMapView.from_name(meter.map_name, owned[meter.role])]
        self.dispatcher = Dispatcher(
            units,
            AccessPolicy(config.writes_enabled, config.allowed_clients),
            clock,
            events,
            role=lambda: self.status.get().get("role"),
            forward_write=forward_write,
            on_write=self.status.invalidate,
        )
        self._limits = Limits(config.max_connections, config.idle_timeout_s, config.unit_id)
        self._tcp: ScadaTcpServer | None = None
        self._rtu: ScadaRtuServer | None = None
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound TCP port (useful with port 0)."""
        if self._tcp is None:
            raise RuntimeError("the SCADA server is not running")
        return self._tcp.port

    async def start(self) -> None:
        """Listen (raises OSError when the address cannot be bound) and start supervising leases."""
        self._tcp = ScadaTcpServer(self.dispatcher, self._limits, self.config.host, self.config.port)
        try:
            await self._tcp.serve_forever(background=True)
        except RuntimeError as exc:  # pymodbus says only "Could not start listen"
            self._tcp = None
            raise OSError(f"cannot listen on {self.config.host}:{self.config.port}") from exc
        rtu = self.config.rtu
        if rtu.enabled:
            self._rtu = ScadaRtuServer(
                self.dispatcher, self._limits, rtu.port, rtu.baudrate, rtu.bytesize, rtu.parity, rtu.stopbits
            )
            await self._rtu.serve_forever(background=True)
        self._supervisor = asyncio.create_task(self._supervise(), name="scada-supervisor")
        log.info(
            "SCADA Modbus server on %s:%d (writes %s)",
            self.config.host,
            self.port,
            "enabled" if self.config.writes_enabled else "disabled",
        )

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        for server in (self._tcp, self._rtu):
            if server is not None:
                await server.shutdown()
        self._tcp = self._rtu = None

    def tick(self) -> None:
        """Renew leases, run reversion timers and the heartbeat watch (the supervisor calls it)."""
        self.control.tick()

    def power_limits(self, snapshot: object, now_s: float) -> list[PowerLimit]:
        """`ExtraLimits` for NodeCore: the SCADA's % limits, combined by the node's ChargeLimiter."""
        return self.control.power_limits(snapshot, now_s)

    async def _supervise(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # a bug here must not end the supervision of leases
                log.exception("SCADA supervisor tick failed")
            await asyncio.sleep(self.config.supervise_s)
