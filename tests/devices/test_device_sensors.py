"""Sensors on a fake I2C bus (no I2C exists on CI machines): NTC maths, LM75-style, ADS1115, BME680, CPU."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from sitecontroller.config.devices import NtcConfig, SensorConfig, SensorsConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import SensorReading
from sitecontroller.devices.errors import SENSOR_READ_FAILED
from sitecontroller.devices.sensors import bme680, ntc
from sitecontroller.devices.sensors.service import SensorsService
from sitecontroller.safety.errors import ErrorHandler


class FakeBus:
    """Register images per I2C address, with smbus2's method signatures; absent address = NACK."""

    def __init__(self, devices: dict[int, dict[int, Any]]) -> None:
        self.devices = devices
        self.writes: list[tuple[int, int, list[int]]] = []

    def _regs(self, address: int) -> dict[int, Any]:
        if address not in self.devices:
            raise OSError(121, "Remote I/O error")
        return self.devices[address]

    def read_byte_data(self, i2c_addr: int, register: int) -> int:
        return self._regs(i2c_addr).get(register, 0)

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        self._regs(i2c_addr)[register] = value
        self.writes.append((i2c_addr, register, [value]))

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]:
        regs = self._regs(i2c_addr)
        word = regs.get(register)
        if isinstance(word, list):  # a 16-bit register device (LM75, ADS1115): [msb, lsb]
            return word[:length]
        return [regs.get(register + i, 0) for i in range(length)]  # type: ignore[misc]

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: list[int]) -> None:
        self._regs(i2c_addr)
        self.writes.append((i2c_addr, register, list(data)))


def test_ntc_beta_and_steinhart_hart_at_25c() -> None:
    beta = NtcConfig(r25_ohm=10_000.0, beta_k=3950.0, series_ohm=10_000.0, supply_v=3.3)
    assert ntc.divider_resistance_ohm(1.65, beta) == pytest.approx(10_000.0)
    assert ntc.temperature_c(10_000.0, beta) == pytest.approx(25.0)
    assert ntc.temperature_c(3_588.0, beta) == pytest.approx(50.0, abs=0.2)  # 10k/3950 table value
    # the beta model is Steinhart-Hart with c = 0, b = 1/beta, a = 1/T25 - ln(R25)/beta
    a = 1 / 298.15 - math.log(10_000.0) / 3950.0
    sh = NtcConfig(sh_a=a, sh_b=1 / 3950.0, sh_c=0.0)
    for resistance in (1_000.0, 10_000.0, 33_000.0):
        assert ntc.temperature_c(resistance, sh) == pytest.approx(ntc.temperature_c(resistance, beta))
    with pytest.raises(ValueError, match="open or shorted"):
        ntc.divider_resistance_ohm(3.3, beta)


def test_cpu_i2c_and_adc_sensors_through_the_service(tmp_path: Path) -> None:
    cpu = tmp_path / "temp"
    cpu.write_text("48312\n")
    bus = FakeBus(
        {
            0x48: {0x00: [0x19, 0x80]},  # LM75: 0x1980 / 256 = 25.5 C
            # ADS1115: conversion 16384 = 2.048 V; config with OS=1 (conversion done)
            0x49: {0x00: [0x40, 0x00], 0x01: [0x80, 0x00]},
        }
    )
    config = SensorsConfig(
        cpu_temp_path=str(cpu),
        sensors=(
            SensorConfig(name="pi_temp_c", kind="cpu_temp"),
            SensorConfig(name="cabinet_temp_c", kind="i2c_temp", address=0x48, scale=1 / 256),
            SensorConfig(name="supply_v", kind="adc", address=0x49, channel=2, scale=10.0),
            SensorConfig(
                name="rack_temp_c",
                kind="ntc",
                address=0x49,
                channel=2,
                ntc=NtcConfig(series_ohm=10_000.0, supply_v=4.096),
            ),
        ),
    )
    store = DataStore(SimClock())
    reading = SensorsService(config, store, open_bus=lambda _: bus).poll()
    assert reading.values == pytest.approx(
        {"pi_temp_c": 48.312, "cabinet_temp_c": 25.5, "supply_v": 20.48, "rack_temp_c": 25.0}
    )
    # the ADS1115 got a single-shot start on AIN2: OS | MUX=110 | PGA=001 | MODE | DR=100 | COMP_QUE=11
    assert (0x49, 0x01, [0xE3, 0x83]) in bus.writes
    assert isinstance(store.snapshot().fresh("sensors"), SensorReading)


def test_missing_sensor_is_left_out_and_raises_a_warning(tmp_path: Path) -> None:
    cpu = tmp_path / "temp"
    cpu.write_text("50000")
    config = SensorsConfig(
        cpu_temp_path=str(cpu),
        sensors=(
            SensorConfig(name="pi_temp_c"),
            SensorConfig(name="cabinet_temp_c", kind="i2c_temp", address=0x4F),
        ),
    )
    clock = SimClock()
    errors = ErrorHandler(clock)
    reading = SensorsService(config, DataStore(clock), errors, open_bus=lambda _: FakeBus({})).poll()
    assert reading.values == {"pi_temp_c": 50.0}
    assert errors.is_active(SENSOR_READ_FAILED)


def _bme680_image(cal: bme680.Calibration, temp_adc: int, press_adc: int, hum_adc: int) -> dict[int, int]:
    regs: dict[int, int] = {bme680.CHIP_ID_REGISTER: bme680.CHIP_ID}

    def put16(lsb_reg: int, msb_reg: int, value: int) -> None:
        regs[lsb_reg], regs[msb_reg] = value & 0xFF, (value >> 8) & 0xFF

    c = asdict(cal)
    put16(0xE9, 0xEA, c["t1"])
    put16(0x8A, 0x8B, c["t2"])
    regs[0x8C] = c["t3"] & 0xFF
    put16(0x8E, 0x8F, c["p1"])
    put16(0x90, 0x91, c["p2"])
    regs[0x92] = c["p3"] & 0xFF
    put16(0x94, 0x95, c["p4"])
    put16(0x96, 0x97, c["p5"])
    regs[0x99] = c["p6"] & 0xFF
    regs[0x98] = c["p7"] & 0xFF
    put16(0x9C, 0x9D, c["p8"])
    put16(0x9E, 0x9F, c["p9"])
    regs[0xA0] = c["p10"]
    regs[0xE3], regs[0xE2], regs[0xE1] = c["h1"] >> 4, (c["h1"] & 0x0F) | (c["h2"] & 0x0F) << 4, c["h2"] >> 4
    for reg, key in (
        (0xE4, "h3"),
        (0xE5, "h4"),
        (0xE6, "h5"),
        (0xE7, "h6"),
        (0xE8, "h7"),
        (0xED, "g1"),
        (0xEE, "g3"),
    ):
        regs[reg] = c[key] & 0xFF
    put16(0xEB, 0xEC, c["g2"])
    regs[0x1D] = 0x80  # new data
    regs[0x1F], regs[0x20], regs[0x21] = press_adc >> 12, (press_adc >> 4) & 0xFF, (press_adc & 0xF) << 4
    regs[0x22], regs[0x23], regs[0x24] = temp_adc >> 12, (temp_adc >> 4) & 0xFF, (temp_adc & 0xF) << 4
    regs[0x25], regs[0x26] = hum_adc >> 8, hum_adc & 0xFF
    return regs


def test_bme680_decodes_calibration_and_data_registers() -> None:
    cal = bme680.Calibration(
        t1=26_000,
        t2=26_500,
        t3=3,
        p1=36_000,
        p2=-10_400,
        p3=88,
        p4=7_000,
        p5=-30,
        p6=30,
        p7=40,
        p8=-2_000,
        p9=-2_500,
        p10=30,
        h1=700,
        h2=1_000,
        h3=0,
        h4=45,
        h5=20,
        h6=120,
        h7=-100,
        g1=-20,
        g2=-9_000,
        g3=18,
        heat_range=0,
        heat_val=0,
        range_switching_error=0,
    )
    temp_adc = round(16384 * (25.0 * 5120 / cal.t2 + cal.t1 / 1024))
    bus = FakeBus({0x77: _bme680_image(cal, temp_adc, 400_000, 25_000)})
    values = bme680.Bme680(bus, 0x77).read()
    expected = bme680.compensate(cal, temp_adc, 400_000, 25_000)
    assert (values["temp_c"], values["pressure_hpa"], values["humidity_pct"]) == pytest.approx(expected)
    assert 24.5 < values["temp_c"] < 25.5
    assert "gas_resistance_ohm" not in values  # gas not valid in this image: left out, not invented
    assert (0x77, bme680.CTRL_MEAS, [0b010_101_01]) in bus.writes  # forced mode re-triggered
    with pytest.raises(OSError, match="no BME680"):
        bme680.Bme680(FakeBus({0x76: {}}), 0x76)


def test_bme680_gas_resistance_table() -> None:
    cal = bme680.Calibration(*([0] * 26))
    # range 4 at gas_adc 512 + 1340: the ratio term is 1/2 of the range constant
    assert bme680.gas_resistance_ohm(cal, 512 + 1340, 4) == pytest.approx(499500.4995 / 2)
    assert bme680.wait_code(150) == 37 + 64
