"""Link faults through the real stack: silence -> stale within timeout_s, slow answers, exception codes,
reconnect with backoff, and the same driver over Modbus RTU on a socat pty pair."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sitecontroller.config.devices import InverterConfig, MeterConfig, ModbusLink
from sitecontroller.core.clock import SimClock, SystemClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import InverterReading
from sitecontroller.devices.engine import RegisterDevice
from sitecontroller.devices.inverter import MapInverter
from sitecontroller.devices.maploader import load_map
from sitecontroller.devices.meter import MapMeter
from sitecontroller.devices.transport import Transport
from sitecontroller.sim.device_emulators.register_server import RegisterEmulator, StaticPlant

Serve = Any
PQ_STATE: dict[str, float | str] = {"power_w": 5000.0, "output_status": 1, "fault_stop_error": 0}


async def test_silent_inverter_goes_stale_within_timeout_and_recovers(serve: Serve) -> None:
    clock = SimClock()
    async with serve(load_map("abb_pqstori"), PQ_STATE, clock) as (emulator, _, device):
        store = DataStore(clock)
        store.expect("inverter", 1.0)  # what the composition root declares from InverterConfig.timeout_s
        driver = MapInverter(device, store, clock, InverterConfig(timeout_s=1.0))
        assert await driver.loop.cycle()
        assert isinstance(store.snapshot().fresh("inverter"), InverterReading)

        emulator.faults.no_answer = True
        clock.advance(0.5)
        assert not await driver.loop.cycle()
        assert store.snapshot().fresh("inverter") is not None  # still within timeout_s
        clock.advance(0.6)
        assert not await driver.loop.cycle()
        snap = store.snapshot()
        assert snap.is_stale("inverter")
        assert not snap.readings["inverter"].valid  # marked invalid by the driver, not only aged out

        emulator.faults.no_answer = False
        clock.advance(0.05)
        assert not await driver.loop.cycle()  # inside the reconnect backoff: no attempt yet
        clock.advance(10.0)
        assert await driver.loop.cycle()
        assert not store.snapshot().is_stale("inverter")


async def test_slow_answer_within_timeout_is_fine_and_exception_code_is_a_failed_poll(serve: Serve) -> None:
    clock = SimClock()
    async with serve(load_map("em24_rs485"), {"power_w": 100.0}, clock) as (emulator, _, device):
        store = DataStore(clock)
        meter = MapMeter(device, store, clock, MeterConfig(role="pv"))
        emulator.faults.delay_s = 0.05
        assert await meter.loop.cycle()
        emulator.faults.delay_s = 0.0
        emulator.faults.exception_code = 4  # device failure
        clock.advance(5.0)
        assert not await meter.loop.cycle()
        assert "exception code 4" in meter.loop.last_error
        assert store.snapshot().fresh("meter.pv") is None


@pytest.fixture
def pty_pair(tmp_path: Path) -> Any:
    if shutil.which("socat") is None:
        pytest.skip("socat not installed (apt-get install -y socat)")
    a, b = tmp_path / "ttyA", tmp_path / "ttyB"
    proc = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield a, b, proc
    finally:
        proc.terminate()
        proc.wait(5)


async def test_inverter_over_rtu_on_a_pty_pair(pty_pair: Any) -> None:
    a, b, _ = pty_pair
    for _ in range(200):  # bounded wait for socat to create the links
        if a.exists() and b.exists():
            break
        await asyncio.sleep(0.01)
    regmap = load_map("luxpower")
    plant = StaticPlant(
        {
            "state": 4,
            "inverter_power_w": 2500.0,
            "rectifier_power_w": 0.0,
            "fault_code": 0,
            "frequency_hz": 50.01,
        }
    )
    emulator = RegisterEmulator(regmap, plant, unit=15)
    await emulator.start_rtu(str(a))
    clock = SystemClock()
    transport = Transport(ModbusLink(serial_port=str(b), unit=15, request_timeout_s=0.5), clock)
    try:
        store = DataStore(clock)
        driver = MapInverter(
            RegisterDevice(regmap, transport, 15, clock),
            store,
            clock,
            InverterConfig(type="luxpower", max_power_w=10_000.0, ramp_w_per_s=1e8),
        )
        for _ in range(50):  # the serial server may need a moment to open its end
            if await driver.loop.cycle():
                break
            await asyncio.sleep(0.05)
        reading = store.snapshot().fresh("inverter")
        assert isinstance(reading, InverterReading)
        assert reading.power_w == pytest.approx(2500.0)
        assert reading.freq_hz == pytest.approx(50.01)
        await driver.set_power(-5000.0)
        assert ("charge_pct_cmd", 50.0) in plant.writes
    finally:
        transport.close()
        await emulator.stop()
