"""The simulated site's path: plant -> emulator (same map) -> pymodbus -> driver -> setpoint -> plant."""

from __future__ import annotations

import pytest

from sitecontroller.config.devices import InverterConfig, MeterConfig, ModbusLink
from sitecontroller.core.clock import SimClock, SystemClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import InverterReading, InverterState, MeterReading
from sitecontroller.devices.factory import Transports, build_inverter, build_meter
from sitecontroller.drivers.base import DeviceCommandError
from sitecontroller.sim.device_emulators.factory import inverter_emulator, meter_emulator
from sitecontroller.sim.device_emulators.plant_ports import PlantValues


class Plant:
    """Stands in for the simulator's InverterPlant: follows the setpoint at once."""

    def __init__(self) -> None:
        self.power_w = 0.0
        self.commands: list[str] = []

    def read(self) -> PlantValues:
        return PlantValues(
            {"power_w": self.power_w, "freq_hz": 50.0, "voltage_v": 230.0, "dc_voltage_v": 760.0}
        )

    def command(self, power_w: float) -> None:
        self.power_w = power_w


@pytest.mark.parametrize("name", ["abb_pqstori", "abb_esi", "luxpower", "sunspec"])
async def test_setpoint_round_trip_through_each_inverter_type(name: str) -> None:
    plant = Plant()
    emulator = inverter_emulator(name, plant.read, plant.command, 50_000.0, on_command=plant.commands.append)
    port_no = await emulator.start_tcp()
    clock = SimClock()
    transports = Transports(clock)
    try:
        store = DataStore(clock)
        config = InverterConfig(
            type=name, link=ModbusLink(port=port_no), max_power_w=50_000.0, ramp_w_per_s=1e7
        )
        driver = await build_inverter(config, store, clock, transports)
        clock.advance(1.0)
        await driver.set_power(-20_000.0)  # charge 20 kW
        assert plant.power_w == pytest.approx(-20_000.0, abs=1.0)
        assert await driver.loop.cycle()
        reading = store.snapshot().fresh("inverter")
        assert isinstance(reading, InverterReading)
        assert reading.power_w == pytest.approx(-20_000.0, abs=10.0)
        assert reading.state is InverterState.RUNNING
        if driver.supports("start"):
            await driver.start()
            assert plant.commands == ["start"]
    finally:
        transports.close()
        await emulator.stop()


@pytest.mark.parametrize("name", ["em24", "em24_rs485", "em24_ethernet", "em340", "em540", "sunspec"])
async def test_site_meter_value_served_for_each_meter_type(name: str) -> None:
    site = PlantValues(
        {"power_w": -45_000.0, "freq_hz": 49.9, "voltage_v": 231.0, "phase_power_w": (-15_000.0,) * 3}
    )
    emulator = meter_emulator(name, lambda: site)
    port_no = await emulator.start_tcp()
    clock = SimClock()
    transports = Transports(clock)
    try:
        store = DataStore(clock)
        meter = await build_meter(
            MeterConfig(type=name, link=ModbusLink(port=port_no)), store, clock, transports
        )
        assert await meter.loop.cycle()
        reading = store.snapshot().fresh("meter.grid")
        assert isinstance(reading, MeterReading)
        assert reading.power_w == pytest.approx(-45_000.0)  # exporting
        assert reading.freq_hz == pytest.approx(49.9)
        assert reading.phase_power_w == pytest.approx((-15_000.0,) * 3)
    finally:
        transports.close()
        await emulator.stop()


class StatefulPlant(Plant):
    """Runs only after a start command, stands by after stop; reports a fault until reset."""

    def __init__(self, state: str) -> None:
        super().__init__()
        self.state = state
        self.stuck = False  # a unit that ignores commands

    def read(self) -> PlantValues:
        return PlantValues({"power_w": self.power_w}, state=self.state, fault_code=0x80000007)

    def on_command(self, name: str) -> None:
        self.commands.append(name)
        if not self.stuck:
            self.state = {"start": "running", "stop": "standby", "reset_fault": "standby"}.get(
                name, self.state
            )


async def test_startup_resets_a_fault_starts_and_waits_for_running_then_shuts_down() -> None:
    plant = StatefulPlant("fault")
    emulator = inverter_emulator(
        "abb_pqstori", plant.read, plant.command, 50_000.0, on_command=plant.on_command
    )
    port_no = await emulator.start_tcp()
    clock = SystemClock()
    transports = Transports(clock)
    try:
        config = InverterConfig(link=ModbusLink(port=port_no), max_power_w=50_000.0, poll_interval_s=0.01)
        driver = await build_inverter(config, DataStore(clock), clock, transports)
        await driver.startup(timeout_s=2.0)
        assert plant.commands == ["reset_fault", "start"] and plant.state == "running"
        plant.power_w = 30_000.0
        await driver.shutdown(timeout_s=2.0)
        assert plant.power_w == 0.0 and plant.commands[-1] == "stop" and plant.state == "standby"
        plant.state = "fault"
        plant.stuck = True
        with pytest.raises(DeviceCommandError, match=r"not running within 0\.1 s"):
            await driver.startup(timeout_s=0.1)
    finally:
        transports.close()
        await emulator.stop()
