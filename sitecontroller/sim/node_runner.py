"""`simulate`: one node in real time on the simulated plant.

The node reaches its battery through the production CAN BMS service, fed by the BMS emulator on a
python-can virtual bus in this process; the other devices are coupled in-process
(`sim/coupling.py`). The faster-than-real-time harness couples every device directly.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import can

from sitecontroller.bms.binding import load_binding
from sitecontroller.bms.factory import build_bms_service
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import Clock, SystemClock
from sitecontroller.runtime.daemon import Daemon, DeviceContext, NodeDevices
from sitecontroller.safety.monitor import Expected
from sitecontroller.sim.bms_emulator import BmsEmulator
from sitecontroller.sim.coupling import SimInverterDriver, SimNodeDevices
from sitecontroller.sim.site import SitePlant

log = logging.getLogger(__name__)

# The plant moves and the devices are read at the fast-loop rate, as real drivers poll.
PLANT_PERIOD_S = 0.1
EMULATOR_TICK_S = 0.05


class SimConfigError(ValueError):
    pass


class PlantStepper:
    """Advances the physics with the wall clock (real time) and lets the devices report."""

    def __init__(self, site: SitePlant, devices: SimNodeDevices, clock: Clock) -> None:
        self._site = site
        self._devices = devices
        self._clock = clock

    async def run(self) -> None:
        last_s = self._clock.monotonic()
        while True:
            self._devices.poll()
            await asyncio.sleep(PLANT_PERIOD_S)
            now_s = self._clock.monotonic()
            self._site.step(now_s - last_s)
            last_s = now_s


class BmsEmulatorService:
    def __init__(self, emulator: BmsEmulator, bus: can.BusABC, clock: Clock) -> None:
        self._emulator = emulator
        self._bus = bus
        self._clock = clock

    async def run(self) -> None:
        try:
            await self._emulator.run(self._clock, EMULATOR_TICK_S)
        finally:
            self._bus.shutdown()


class SimDeviceFactory:
    """Builds a node's devices on the simulated plant. `protocols`: the BMS over CAN (real time);
    otherwise every device is coupled directly (the SimClock harness)."""

    def __init__(self, site: SitePlant, node_id: str, protocols: bool) -> None:
        self.site = site
        self.node_id = node_id
        self.protocols = protocols
        self.devices: SimNodeDevices | None = None
        self.emulator: BmsEmulator | None = None

    def __call__(self, ctx: DeviceContext) -> NodeDevices:
        devices = SimNodeDevices(self.site, self.node_id, ctx.store, bms_direct=not self.protocols)
        self.devices = devices
        services: list[object] = []
        if self.protocols:
            bms = ctx.config.bms
            if bms.type == "smbus" or bms.can.interface != "virtual":
                raise SimConfigError(
                    "a simulated site reaches its BMS over CAN: set bms.can.interface to 'virtual'"
                )
            plant = devices.plant
            bus = can.Bus(interface="virtual", channel=bms.can.channel)
            self.emulator = BmsEmulator(load_binding(bms.type), lambda: plant.battery, bus)
            services.append(BmsEmulatorService(self.emulator, bus, ctx.clock))
            services.append(build_bms_service(bms, ctx.clock, ctx.store, ctx.errors, ctx.sysinfo))
            services.append(PlantStepper(self.site, devices, ctx.clock))
        return NodeDevices(
            inverter=SimInverterDriver(devices),
            services=services,  # type: ignore[arg-type]
            expected=Expected(grid_meter=True, inputs=True),
        )


async def simulate(config: SiteConfig, state_dir: Path, duration_s: float | None) -> int:
    clock = SystemClock()
    site = SitePlant(config.simulation, [config.identity.node_id])
    daemon = Daemon(config, SimDeviceFactory(site, config.identity.node_id, protocols=True), state_dir, clock)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.request_stop)
    if duration_s is not None:
        loop.call_later(duration_s, daemon.request_stop)
    return await daemon.run()
