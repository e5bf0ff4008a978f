"""The simulated site behind real protocols: the BMS emulator on a CAN virtual bus, the inverter and
grid-meter emulators as pymodbus servers on loopback, all fed by the plant. `simulate` then runs the
production device factory (`runtime/hardware.py`) against them; only the digital inputs and the
sensors stay coupled in-process (there are no pins or I2C buses to emulate on this machine)."""

from __future__ import annotations

import can

from sitecontroller.bms.binding import load_binding
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import Clock
from sitecontroller.runtime.daemon import DeviceContext, NodeDevices
from sitecontroller.runtime.hardware import hardware_devices
from sitecontroller.safety.monitor import Expected
from sitecontroller.sim.bms_emulator import BmsEmulator
from sitecontroller.sim.coupling import PlantStepper, SimNodeDevices
from sitecontroller.sim.device_emulators.factory import inverter_emulator, meter_emulator
from sitecontroller.sim.device_emulators.plant_ports import PlantValues
from sitecontroller.sim.device_emulators.register_server import RegisterEmulator
from sitecontroller.sim.site import NodePlant, SitePlant

LOOPBACK = "127.0.0.1"
IN_PROCESS_SOURCES = frozenset({"inputs", "sensors"})


class SimConfigError(ValueError):
    pass


def inverter_values(site: SitePlant, node: NodePlant) -> PlantValues:
    inv = node.inverter
    state = "fault" if inv.fault else "running" if inv.running else "standby"
    return PlantValues(
        {
            "power_w": inv.power_w,
            "reactive_power_var": 0.0,
            "freq_hz": site.freq_hz,
            "voltage_v": site.grid.voltage_v,
            "dc_voltage_v": node.battery.voltage_v,
            "temp_c": 30.0 + 15.0 * abs(inv.power_w) / inv.max_power_w,
        },
        state=state,
        fault_code=17 if inv.fault else 0,
    )


def meter_values(site: SitePlant) -> PlantValues:
    return PlantValues(
        {"power_w": site.grid_power_w, "freq_hz": site.freq_hz, "voltage_v": site.grid.voltage_v}
    )


def on_inverter_command(node: NodePlant, name: str) -> None:
    if name in ("start", "stop"):
        node.inverter.running = name == "start"
    elif name == "reset":
        node.inverter.fault = False


class EmulatedNode:
    """One node's device emulators; `start()` returns the site parameters pointing at them."""

    def __init__(self, config: SiteConfig, site: SitePlant, clock: Clock) -> None:
        bms = config.bms
        if bms.type == "smbus" or bms.can.interface != "virtual":
            raise SimConfigError(
                "a simulated site reaches its BMS over CAN: bms.can.interface must be 'virtual'"
            )
        self.config = config
        self.site = site
        self.clock = clock
        self.node = site.nodes[config.identity.node_id]
        self._bus = can.Bus(interface="virtual", channel=bms.can.channel)
        node = self.node
        self.bms = BmsEmulator(load_binding(bms.type), lambda: node.battery, self._bus)
        self.inverter = inverter_emulator(
            config.inverter.type,
            lambda: inverter_values(site, node),
            node.inverter.command,
            node.inverter.max_power_w,
            config.inverter.link.unit,
            lambda name: on_inverter_command(node, name),
        )
        self.meters: list[RegisterEmulator] = [
            meter_emulator(m.type, lambda: meter_values(site), m.link.unit)
            for m in config.meters
            if m.role == "grid"
        ]

    async def start(self) -> SiteConfig:
        inverter_port = await self.inverter.start_tcp(LOOPBACK, 0)
        meter_ports = [await meter.start_tcp(LOOPBACK, 0) for meter in self.meters]
        cfg = self.config
        inverter = cfg.inverter.model_copy(
            update={"link": cfg.inverter.link.model_copy(update={"host": LOOPBACK, "port": inverter_port})}
        )
        grid_meters = [m for m in cfg.meters if m.role == "grid"]
        meters = tuple(
            m.model_copy(update={"link": m.link.model_copy(update={"host": LOOPBACK, "port": port})})
            for m, port in zip(grid_meters, meter_ports, strict=True)
        )
        return cfg.model_copy(update={"inverter": inverter, "meters": meters})

    async def stop(self) -> None:
        for emulator in [self.inverter, *self.meters]:
            await emulator.stop()
        self._bus.shutdown()

    def device_factory(self, ctx: DeviceContext) -> NodeDevices:
        """The production devices, plus the plant stepping and the in-process inputs and sensors."""
        devices = hardware_devices(ctx)
        self.coupled = SimNodeDevices(self.site, ctx.config.identity.node_id, ctx.store, IN_PROCESS_SOURCES)
        bms = self.bms
        devices.services.append(
            PlantStepper(self.coupled, self.clock, lambda now_s: bms.send(bms.frames_due(now_s)))
        )
        devices.expected = Expected(grid_meter=devices.expected.grid_meter, inputs=True)
        return devices
