"""Every meter map: driver against an emulator built from the same map, known values end to end."""

from __future__ import annotations

from typing import Any

import pytest

from sitecontroller.config.devices import MeterConfig
from sitecontroller.core.clock import SystemClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import MeterReading
from sitecontroller.devices import codec
from sitecontroller.devices.maploader import load_map
from sitecontroller.devices.meter import MapMeter
from sitecontroller.drivers.base import DeviceCommandError

Serve = Any
METER_MAPS = ["em24_rs485", "em24_ethernet", "em340", "em540"]

# exporting 1234.5 W on three phases: the meter (after setup) shows export as negative power
STATE: dict[str, float | str] = {
    "voltage_l1_v": 230.1,
    "voltage_l2_v": 231.2,
    "voltage_l3_v": 229.3,
    "voltage_ln_v": 230.2,
    "current_l1_a": -1.789,
    "current_l2_a": -1.8,
    "current_l3_a": -1.774,
    "power_l1_w": -411.5,
    "power_l2_w": -411.5,
    "power_l3_w": -411.5,
    "power_w": -1234.5,
    "frequency_hz": 50.0,
    "import_energy_wh": 123_400.0,
    "export_energy_wh": 98_700.0,
    "serial": "BX12345",
    "firmware": 7,
}


@pytest.mark.parametrize("name", METER_MAPS)
async def test_meter_reads_known_values_with_scaling_word_order_and_sign(name: str, serve: Serve) -> None:
    regmap = load_map(name)
    clock = SystemClock()
    async with serve(regmap, STATE) as (emulator, _, device):
        store = DataStore(clock)
        meter = MapMeter(device, store, clock, MeterConfig(type=name, role="grid"))
        assert await meter.loop.cycle()
        reading = store.snapshot().fresh("meter.grid")
        assert isinstance(reading, MeterReading)
        assert reading.power_w == pytest.approx(-1234.5)  # export: negative at the grid meter
        assert reading.phase_power_w == pytest.approx((-411.5,) * 3)
        assert reading.phase_voltage_v == pytest.approx((230.1, 231.2, 229.3))
        assert reading.phase_current_a == pytest.approx((-1.789, -1.8, -1.774))
        assert reading.freq_hz == pytest.approx(50.0)
        assert reading.import_energy_wh == pytest.approx(123_400.0)
        assert reading.export_energy_wh == pytest.approx(98_700.0)
        assert device.value("serial") == "BX12345"
        # word order on the wire: INT32 low word first; -1234.5 W = -12345 in 0.1 W
        point = regmap.points["power_w"]
        words = await device.transport.read("input", point.address, 2, 1)
        assert words == [(-12345) & 0xFFFF, 0xFFFF]
        assert codec.decode_raw(point, words) == -12345
        assert emulator.requests


@pytest.mark.parametrize("name", METER_MAPS)
async def test_meter_setup_writes_signed_mode_and_refuses_out_of_range(name: str, serve: Serve) -> None:
    regmap = load_map(name)
    async with serve(regmap, STATE) as (emulator, plant, device):
        meter = MapMeter(device, DataStore(SystemClock()), SystemClock(), MeterConfig(type=name))
        await meter.setup()
        (step,) = regmap.commands["setup"].steps
        assert plant.writes == [(step.write, step.value)]
        before = len(emulator.requests)
        with pytest.raises(DeviceCommandError, match="above the maximum"):
            await device.write(step.write, 99)
        assert len(emulator.requests) == before  # refused before the wire


async def test_not_available_sentinel_gives_no_value(serve: Serve) -> None:
    regmap = load_map("em340")
    async with serve(regmap, STATE) as (emulator, _, device):
        emulator.faults.overrides["frequency_hz"] = 6553.5  # 0xFFFF on the wire
        await device.poll_due()
        assert device.value("frequency_hz") is None
        assert device.number("power_w") == pytest.approx(-1234.5)


@pytest.mark.parametrize(("served_map", "model_id"), [("em24_rs485", 72), ("em24_ethernet", 1650)])
async def test_em24_map_is_picked_by_the_model_id_register(served_map: str, model_id: int) -> None:
    from sitecontroller.config.devices import ModbusLink
    from sitecontroller.devices.factory import Transports, build_meter
    from sitecontroller.sim.device_emulators.register_server import RegisterEmulator, StaticPlant

    emulator = RegisterEmulator(load_map(served_map), StaticPlant({**STATE, "model_id": model_id}))
    port = await emulator.start_tcp()
    clock = SystemClock()
    transports = Transports(clock)
    try:
        store = DataStore(clock)
        meter = await build_meter(
            MeterConfig(type="em24", link=ModbusLink(port=port)), store, clock, transports
        )
        assert meter.device.regmap.name == served_map
        assert await meter.loop.cycle()
        reading = store.snapshot().fresh("meter.grid")
        assert isinstance(reading, MeterReading)
        assert reading.freq_hz == pytest.approx(50.0)  # at a different address on each map
        assert reading.export_energy_wh == pytest.approx(98_700.0)
    finally:
        transports.close()
        await emulator.stop()
