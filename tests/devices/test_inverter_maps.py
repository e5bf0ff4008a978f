"""Every inverter map: driver against an emulator serving the same map (real pymodbus on loopback)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from sitecontroller.config.devices import InverterConfig
from sitecontroller.core.clock import SimClock, SystemClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import InverterReading, InverterState
from sitecontroller.devices import codec
from sitecontroller.devices.inverter import MapInverter
from sitecontroller.devices.maploader import load_map
from sitecontroller.drivers.base import DeviceCommandError

Serve = Any


@dataclass
class Case:
    state: dict[str, float | str]
    expect: dict[str, object]
    power_points: tuple[str, ...] = ()  # the set_power registers, in site units after the write
    wire: tuple[str, float, list[int]] | None = None  # point, site value, exact registers: pins word order


CASES = {
    "abb_pqstori": Case(
        state={
            "voltage_l1_v": 230.5,
            "voltage_l2_v": 231.0,
            "voltage_l3_v": 229.5,
            "frequency_hz": 50.02,
            "dc_bus_v": 750.0,
            "current_l1_a": 21.5,
            "current_l2_a": 21.0,
            "current_l3_a": 22.0,
            "temp_igbt_c": 41.5,
            "power_w": -15_000.0,
            "reactive_power_var": 2_500.0,
            "output_status": 1,
            "fault_stop_error": 0,
        },
        expect={
            "state": InverterState.RUNNING,
            "power_w": -15_000.0,
            "reactive_power_var": 2_500.0,
            "freq_hz": 50.02,
            "dc_voltage_v": 750.0,
            "temp_c": 41.5,
            "phase_voltage_v": (230.5, 231.0, 229.5),
            "phase_current_a": (21.5, 21.0, 22.0),
        },
        power_points=("set_power_w", "set_reactive_power_var"),
        # -15 kW as float32 big-endian (high word first): 0xC170 0x0000
        wire=("power_w", -15_000.0, [0xC170, 0x0000]),
    ),
    "luxpower": Case(
        state={
            "state": 16,
            "battery_voltage_v": 52.3,
            "frequency_hz": 49.98,
            "inverter_power_w": 0.0,
            "rectifier_power_w": 3200.0,
            "voltage_r_v": 230.1,
            "voltage_s_v": 0.0,
            "voltage_t_v": 0.0,
            "fault_code": 0,
            "temp_radiator_c": 38.0,
        },
        # AC charging 3.2 kW -> negative (charge)
        expect={
            "state": InverterState.RUNNING,
            "power_w": -3200.0,
            "freq_hz": 49.98,
            "dc_voltage_v": 52.3,
            "temp_c": 38.0,
        },
        power_points=("charge_pct_cmd", "discharge_pct_cmd"),
        # fault code 0x00020001 as L/H pair, low word first
        wire=("fault_code", 0x00020001, [0x0001, 0x0002]),
    ),
    "trumpf_truconvert_ac3025": Case(
        state={"state": 3, "battery_voltage_v": 801.5, "dc_power_w": -2500.0},
        expect={"state": InverterState.RUNNING, "power_w": -2500.0, "dc_voltage_v": 801.5},
        wire=("dc_power_w", -2500.0, [(-2500) & 0xFFFF]),
    ),
}
CASES["abb_esi"] = CASES["abb_pqstori"]
CONFIG = InverterConfig(max_power_w=50_000.0, max_reactive_power_var=20_000.0, ramp_w_per_s=1e8)


def make_driver(device: Any, clock: Any, store: DataStore | None = None, **cfg: Any) -> MapInverter:
    config = CONFIG.model_copy(update=cfg)
    return MapInverter(device, store or DataStore(clock), clock, config)


@pytest.mark.parametrize("name", sorted(CASES))
async def test_reading_scaling_word_order_and_sign(name: str, serve: Serve) -> None:
    case = CASES[name]
    regmap = load_map(name)
    clock = SystemClock()
    async with serve(regmap, case.state) as (_, _, device):
        store = DataStore(clock)
        driver = make_driver(device, clock, store)
        assert await driver.loop.cycle()
        reading = store.snapshot().fresh("inverter")
        assert isinstance(reading, InverterReading)
        for key, value in case.expect.items():
            expected = value if isinstance(value, InverterState) else pytest.approx(value)
            assert getattr(reading, key) == expected
        assert case.wire is not None
        point_name, value, words = case.wire
        point = regmap.points[point_name]
        assert codec.encode_raw(point, codec.from_site(point, value)) == words
        if point_name in case.state and case.state[point_name] == value:
            assert await device.transport.read(point.table, point.address, point.size, 1) == words


@pytest.mark.parametrize("name", ["abb_pqstori", "abb_esi", "luxpower"])
async def test_set_power_reaches_device_in_its_units_and_sign(name: str, serve: Serve) -> None:
    case = CASES[name]
    clock = SimClock()
    async with serve(load_map(name), case.state, clock) as (_, plant, device):
        driver = make_driver(device, clock)
        clock.advance(1.0)  # the ramp (1e8 W/s) lets a full step through after 1 s
        await driver.set_power(12_500.0, 1_000.0)  # discharge 12.5 kW
        clock.advance(1.0)
        await driver.set_power(-25_000.0, 0.0)  # charge 25 kW
        written = [(p, v) for p, v in plant.writes if p in case.power_points]
        if name == "luxpower":  # percent of max_power_w (50 kW), split by direction
            assert written == [
                ("charge_pct_cmd", 0.0),
                ("discharge_pct_cmd", 25.0),
                ("charge_pct_cmd", 50.0),
                ("discharge_pct_cmd", 0.0),
            ]
        else:
            assert written == [
                ("set_power_w", 12_500.0),
                ("set_reactive_power_var", 1_000.0),
                ("set_power_w", -25_000.0),
                ("set_reactive_power_var", 0.0),
            ]


@pytest.mark.parametrize("name", sorted(CASES))
async def test_out_of_range_refused_before_the_wire(name: str, serve: Serve) -> None:
    regmap = load_map(name)
    async with serve(regmap, CASES[name].state) as (emulator, plant, device):
        driver = make_driver(device, SystemClock(), max_power_w=5_000_000.0, max_reactive_power_var=5e6)
        before = len(emulator.requests)
        if name != "luxpower":  # Lux takes % of max_power_w, so only the config limit applies
            with pytest.raises(DeviceCommandError, match=r"maximum|no register"):
                await driver.set_power(2_000_000.0)  # within config, beyond the register's declared range
        with pytest.raises(DeviceCommandError, match="max_power_w"):
            await make_driver(device, SystemClock()).set_power(60_000.0)
        for point_name, point in regmap.points.items():
            if point.writable and point.max is not None:
                with pytest.raises(DeviceCommandError, match="above the maximum"):
                    await device.write(point_name, point.max + 1)
        assert len(emulator.requests) == before
        assert plant.writes == []


async def test_commands_without_a_register_are_refused_clearly(serve: Serve) -> None:
    async with serve(load_map("trumpf_truconvert_ac3025"), CASES["trumpf_truconvert_ac3025"].state) as (
        emulator,
        _,
        device,
    ):
        driver = make_driver(device, SystemClock())
        for command in (driver.start(), driver.stop(), driver.set_power(1000.0), driver.start_grid_forming()):
            with pytest.raises(DeviceCommandError, match="declares no register"):
                await command
        assert emulator.requests == []


async def test_adjacent_setpoint_registers_go_out_in_one_request(serve: Serve) -> None:
    clock = SimClock()
    async with serve(load_map("abb_pqstori"), CASES["abb_pqstori"].state, clock) as (emulator, plant, device):
        driver = make_driver(device, clock)
        clock.advance(1.0)
        await driver.set_power(10_000.0, 2_000.0)
        # P (6200) and Q (6202) as one write-multiple of 4 registers, then one read-back
        assert emulator.requests == [(16, 6200, 4), (3, 6200, 4)]
        assert plant.writes == [("set_power_w", 10_000.0), ("set_reactive_power_var", 2_000.0)]


async def test_start_stop_reset_and_heartbeat_counter_pqstori(serve: Serve) -> None:
    async with serve(load_map("abb_pqstori"), CASES["abb_pqstori"].state) as (_, plant, device):
        driver = make_driver(device, SystemClock())
        await driver.start()
        await driver.stop()
        await driver.reset_fault()
        for _ in range(3):
            await driver.beat()
        assert plant.writes == [
            ("start", 1.0),
            ("stop", 1.0),
            ("reset_fault", 1.0),
            ("heartbeat", 1.0),
            ("heartbeat", 2.0),
            ("heartbeat", 3.0),
        ]


def test_heartbeat_interval_must_beat_the_device_timeout() -> None:
    from sitecontroller.devices.engine import RegisterDevice

    device = RegisterDevice(load_map("abb_pqstori"), None, 1, SimClock())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="heartbeat_interval_s"):
        MapInverter(device, DataStore(SimClock()), SimClock(), InverterConfig(heartbeat_interval_s=20.0))


@pytest.mark.parametrize(
    ("name", "fault", "code"),
    [
        ("abb_pqstori", {"fault_stop_error": 0x80000012}, 0x80000012),
        ("luxpower", {"state": 1, "fault_code": 0x00040000}, 0x00040000),
        ("trumpf_truconvert_ac3025", {"state": 1}, 1),
    ],
)
async def test_fault_state_carries_the_device_fault_code(
    name: str, fault: dict[str, float], code: int, serve: Serve
) -> None:
    clock = SystemClock()
    async with serve(load_map(name), CASES[name].state) as (emulator, _, device):
        store = DataStore(clock)
        driver = make_driver(device, clock, store)
        emulator.faults.overrides.update(fault)
        assert await driver.loop.cycle()
        reading = store.snapshot().fresh("inverter")
        assert isinstance(reading, InverterReading)
        assert reading.state is InverterState.FAULT
        assert reading.fault_code == code


async def test_ramp_limits_the_written_setpoint(serve: Serve) -> None:
    clock = SimClock()
    async with serve(load_map("abb_pqstori"), CASES["abb_pqstori"].state, clock) as (_, plant, device):
        driver = make_driver(device, clock, ramp_w_per_s=1000.0)
        await driver.set_power(10_000.0)  # no time has passed: stays at 0
        clock.advance(2.0)
        await driver.set_power(10_000.0)
        clock.advance(100.0)
        await driver.set_power(-5_000.0)
        assert [v for p, v in plant.writes if p == "set_power_w"] == [0.0, 2000.0, -5000.0]


async def test_run_keeps_the_heartbeat_changing(serve: Serve) -> None:
    import asyncio

    async with serve(load_map("abb_pqstori"), CASES["abb_pqstori"].state) as (_, plant, device):
        driver = make_driver(device, SystemClock(), heartbeat_interval_s=0.02)
        task = asyncio.create_task(driver.run())
        for _ in range(200):  # bounded wait on the real socket
            if len([w for w in plant.writes if w[0] == "heartbeat"]) >= 3:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        beats = [v for p, v in plant.writes if p == "heartbeat"]
        assert beats[:3] == [1.0, 2.0, 3.0]


def test_ramp_never_holds_back_a_move_towards_zero() -> None:
    from sitecontroller.devices.ramp import RampLimiter

    clock = SimClock()
    ramp = RampLimiter(clock, 1000.0)
    clock.advance(10.0)
    assert ramp.limit(50_000.0) == 10_000.0
    assert ramp.limit(0.0) == 0.0  # e-stop / stop: at once, no time has passed
    clock.advance(10.0)
    assert ramp.limit(8_000.0) == 8_000.0
    assert ramp.limit(3_000.0) == 3_000.0  # smaller discharge: at once
    clock.advance(1.0)
    assert ramp.limit(-20_000.0) == -1_000.0  # sign change: to zero at once, then ramp
