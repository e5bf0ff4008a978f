"""In-process coupling of a node's drivers to the simulated plant.

These stand where the CAN and Modbus drivers stand on a real site and fill the DataStore with the
same typed readings, so the node's control and safety code cannot tell the difference. The
protocol emulators (BMS over CAN, inverter and meter over Modbus) replace this coupling in
`simulate`; it remains for the faster-than-real-time mode. Faults are injected with `silent`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import (
    BmsReading,
    InputsReading,
    InverterReading,
    InverterState,
    MeterReading,
    RackReading,
    SensorReading,
)
from sitecontroller.runtime.daemon import DeviceContext, NodeDevices
from sitecontroller.safety.monitor import Expected
from sitecontroller.sim.site import NodePlant, SitePlant

# The plant moves and the coupled devices report at the fast-loop rate in real time.
PLANT_PERIOD_S = 0.1
ALL_SOURCES = frozenset({"bms", "inverter", "meter.grid", "inputs", "sensors"})


class SimNodeDevices:
    """The BMS, inverter, grid meter, inputs and sensors of one simulated node."""

    def __init__(
        self, site: SitePlant, node_id: str, store: DataStore, sources: frozenset[str] = ALL_SOURCES
    ) -> None:
        """`sources`: the readings this coupling puts; the others come over real protocols."""
        self.site = site
        self.sources = sources
        self.plant: NodePlant = site.nodes[node_id]
        self.store = store
        self.silent: set[str] = set()
        self.estop_pressed = False
        self.pi_temp_c = 48.0
        self.commands: list[tuple[str, float]] = []

    def poll(self) -> None:
        """Read every device once, as the drivers' poll tasks would."""
        active = self.sources - self.silent
        store, site = self.store, self.site
        if "bms" in active:
            store.put("bms", self._bms())
        if "inverter" in active:
            store.put("inverter", self._inverter())
        if "meter.grid" in active:
            meter = MeterReading(site.grid_power_w, freq_hz=site.freq_hz, voltage_v=site.grid.voltage_v)
            store.put("meter.grid", meter)
        if "inputs" in active:
            store.put("inputs", InputsReading(estop_active=self.estop_pressed))
        if "sensors" in active:
            store.put("sensors", SensorReading({"pi_temp_c": self.pi_temp_c, "humidity_pct": 40.0}))

    def _bms(self) -> BmsReading:
        battery = self.plant.battery
        racks = []
        for rack in battery.racks:
            volts, temps = rack.cell_voltages_v, rack.cell_temps_c
            racks.append(
                RackReading(
                    rack_id=rack.rack_id,
                    online=rack.online,
                    voltage_v=float(volts.sum()),
                    current_a=rack.current_a,
                    soc_pct=rack.soc_pct,
                    cell_voltage_min_v=float(volts.min()),
                    cell_voltage_max_v=float(volts.max()),
                    cell_temp_min_c=float(temps.min()),
                    cell_temp_max_c=float(temps.max()),
                )
            )
        online = [r for r in racks if r.online]
        voltage_v = sum(r.voltage_v for r in online) / len(online) if online else 0.0
        capacity_ah = sum(r.capacity_wh for r in battery.online_racks) / max(voltage_v, 1.0)
        return BmsReading(
            soc_pct=battery.soc_pct,
            voltage_v=voltage_v,
            current_a=battery.current_a,
            soh_pct=100.0,
            cell_voltage_min_v=min((r.cell_voltage_min_v for r in online), default=None),
            cell_voltage_max_v=max((r.cell_voltage_max_v for r in online), default=None),
            cell_voltage_avg_v=voltage_v / self.plant.battery.racks[0].cells_in_series if online else None,
            cell_temp_min_c=min((r.cell_temp_min_c for r in online), default=None),
            cell_temp_max_c=max((r.cell_temp_max_c for r in online), default=None),
            charge_current_limit_a=capacity_ah * 0.5,
            discharge_current_limit_a=capacity_ah * 1.0,
            racks_online=len(online),
            racks_total=len(racks),
            racks=tuple(racks),
        )

    def _inverter(self) -> InverterReading:
        inv = self.plant.inverter
        if inv.fault:
            state = InverterState.FAULT
        elif inv.grid_forming:
            state = InverterState.GRID_FORMING
        elif inv.running:
            state = InverterState.RUNNING
        else:
            state = InverterState.STANDBY
        return InverterReading(
            state=state,
            power_w=inv.power_w,
            freq_hz=self.site.freq_hz,
            voltage_v=self.site.grid.voltage_v,
            dc_voltage_v=self.plant.battery.voltage_v,
            temp_c=30.0 + abs(inv.power_w) / max(inv.max_power_w, 1.0) * 15.0,
            fault_code=17 if inv.fault else None,
        )


class PlantStepper:
    """Real time: advances the physics with the clock and lets the coupled devices report, at the
    fast-loop rate (as real drivers poll). `on_tick` runs each period too (emulators' schedules)."""

    def __init__(
        self, devices: SimNodeDevices, clock: Clock, on_tick: Callable[[float], None] | None = None
    ) -> None:
        self._devices = devices
        self._clock = clock
        self._on_tick = on_tick

    async def run(self) -> None:
        last_s = self._clock.monotonic()
        while True:
            self._devices.poll()
            if self._on_tick is not None:
                self._on_tick(last_s)
            await asyncio.sleep(PLANT_PERIOD_S)
            now_s = self._clock.monotonic()
            self._devices.site.step(now_s - last_s)
            last_s = now_s


class DirectDeviceFactory:
    """Every device of the node coupled in-process: the faster-than-real-time harness (no services:
    the harness steps the plant), or real time with a `clock` (`simulate --devices direct`)."""

    def __init__(self, site: SitePlant, node_id: str, realtime_clock: Clock | None = None) -> None:
        self.site = site
        self.node_id = node_id
        self.realtime_clock = realtime_clock
        self.devices: SimNodeDevices | None = None

    def __call__(self, ctx: DeviceContext) -> NodeDevices:
        self.devices = SimNodeDevices(self.site, self.node_id, ctx.store)
        clock = self.realtime_clock
        return NodeDevices(
            inverter=SimInverterDriver(self.devices),
            services=[] if clock is None else [PlantStepper(self.devices, clock)],
            expected=Expected(grid_meter=True, inputs=True),
        )


class SimInverterDriver:
    """The InverterDriver interface over the simulated inverter."""

    def __init__(self, devices: SimNodeDevices) -> None:
        self._devices = devices

    async def run(self) -> None:
        await asyncio.Event().wait()

    async def set_power(self, power_w: float, reactive_power_var: float = 0.0) -> None:
        self.apply_power(power_w)

    def apply_power(self, power_w: float) -> None:
        if "inverter" not in self._devices.silent:
            self._devices.plant.inverter.command(power_w)

    async def start(self) -> None:
        self._devices.plant.inverter.running = True
        self._devices.commands.append(("start", 0.0))

    async def stop(self) -> None:
        self._devices.plant.inverter.running = False
        self._devices.commands.append(("stop", 0.0))

    async def reset_fault(self) -> None:
        self._devices.plant.inverter.fault = False
