"""SunSpec: our scan + model-definition map against the emulator, cross-checked with pysunspec2's client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP

from sitecontroller.config.devices import InverterConfig, MeterConfig, ModbusLink
from sitecontroller.core.clock import SimClock, SystemClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import InverterReading, InverterState, MeterReading
from sitecontroller.devices import sunspec
from sitecontroller.devices.factory import Transports, build_inverter, build_meter
from sitecontroller.drivers.base import DeviceCommandError
from sitecontroller.sim.device_emulators.register_server import StaticPlant
from sitecontroller.sim.device_emulators.sunspec_server import LEGACY_INVERTER_MODELS, sunspec_emulator

INVERTER: dict[str, float | str] = {
    "m1_mn": "ACME",
    "m1_md": "BESS-100",
    "m1_sn": "SN0042",
    "m701_w_sf": 1,
    "m701_w": -12_340.0,
    "m701_var_sf": 0,
    "m701_var": 1500.0,
    "m701_hz_sf": -3,
    "m701_hz": 50.012,
    "m701_v_sf": -1,
    "m701_lnv": 230.4,
    "m701_vl1": 230.4,
    "m701_vl2": 230.5,
    "m701_vl3": 230.3,
    "m701_a_sf": -1,
    "m701_al1": 17.9,
    "m701_al2": 18.0,
    "m701_al3": 17.8,
    "m701_wl1": -4110.0,
    "m701_wl2": -4110.0,
    "m701_wl3": -4120.0,
    "m701_tmp_sf": 0,
    "m701_tmpcab": 31.0,
    "m701_invst": 3,
    "m701_alrm": 0,
    "m704_pf_sf": -3,
    "m702_w_sf": 1,
    "m702_wmaxrtg": 100_000.0,
    "m704_wset_sf": 0,
    "m704_varset_sf": 0,
    "m713_pct_sf": -1,
    "m713_soc": 55.3,
}


def pysunspec_read(port: int) -> dict[str, Any]:
    """What pysunspec2's own client finds (sync client: run in a thread, the server is on our loop)."""
    device = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=port, timeout=2)
    try:
        device.scan()
        m701 = device.models[701][0]
        return {
            "models": sorted(device.models_list_ids())
            if hasattr(device, "models_list_ids")
            else sorted(k for k in device.models if isinstance(k, int)),
            "mn": device.common[0].Mn.value,
            "w": m701.W.cvalue,
            "hz": m701.Hz.cvalue,
            "var": m701.Var.cvalue,
            "lnv": m701.LNV.cvalue,
            "soc": device.models[713][0].SoC.cvalue,
            "invst": m701.InvSt.value,
        }
    finally:
        device.close()


def pysunspec_power_factor(port: int) -> tuple[float, int]:
    device = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=port, timeout=2)
    try:
        device.scan()
        group = device.models[704][0].PFWInj
        return group.PF.cvalue, group.Ext.value
    finally:
        device.close()


async def test_pysunspec2_and_our_driver_read_the_same_values() -> None:
    plant = StaticPlant(dict(INVERTER))
    emulator, _ = sunspec_emulator(plant)
    port = await emulator.start_tcp()
    clock = SystemClock()
    transports = Transports(clock)
    try:
        theirs = await asyncio.to_thread(pysunspec_read, port)
        store = DataStore(clock)
        config = InverterConfig(type="sunspec", link=ModbusLink(port=port), ramp_w_per_s=1e8, max_power_w=5e5)
        driver = await build_inverter(config, store, clock, transports)
        assert await driver.loop.cycle()
        ours = store.snapshot().fresh("inverter")
        assert isinstance(ours, InverterReading)
        assert theirs["models"] == [1, 701, 702, 704, 713, 715]
        assert theirs["mn"] == "ACME"
        assert ours.power_w == pytest.approx(theirs["w"]) == pytest.approx(-12_340.0)  # charging
        assert ours.freq_hz == pytest.approx(theirs["hz"]) == pytest.approx(50.012)
        assert ours.reactive_power_var == pytest.approx(theirs["var"])
        assert ours.voltage_v == pytest.approx(theirs["lnv"])
        assert ours.phase_current_a == pytest.approx((17.9, 18.0, 17.8))
        assert ours.state is InverterState.RUNNING and theirs["invst"] == 3
        # the map range comes from 702 WMaxRtg: beyond it is refused before the wire
        before = len(emulator.requests)
        with pytest.raises(DeviceCommandError, match="above the maximum"):
            await driver.set_power(150_000.0)
        assert len(emulator.requests) == before
        await driver.set_power(20_000.0, -500.0)
        assert ("m704_wset", 20_000.0) in plant.writes
        assert ("m704_wsetena", 1.0) in plant.writes
        assert ("m704_varset", -500.0) in plant.writes
        await driver.set_power_factor(-0.95)  # under-excited
        # our group offsets agree with pysunspec2's model (PFWInj sits after all top-level points)
        assert await asyncio.to_thread(pysunspec_power_factor, port) == (pytest.approx(0.95), 1)
        last = dict(plant.writes)
        for mode in ("inj", "abs"):
            assert last[f"m704_pfw{mode}_pf"] == pytest.approx(0.95)
            assert (last[f"m704_pfw{mode}_ext"], last[f"m704_pfw{mode}ena"]) == (1.0, 1.0)
        await driver.start()
        await driver.beat()
        assert ("m715_opctl", 1.0) in plant.writes and ("m715_controllerhb", 1.0) in plant.writes
    finally:
        transports.close()
        await emulator.stop()


async def test_sunspec_fault_reports_the_alarm_bitfield_as_code() -> None:
    plant = StaticPlant({**INVERTER, "m701_invst": 6, "m701_alrm": 0x80})  # OVER_TEMP
    emulator, _ = sunspec_emulator(plant)
    port = await emulator.start_tcp()
    clock = SimClock()
    transports = Transports(clock)
    try:
        store = DataStore(clock)
        driver = await build_inverter(
            InverterConfig(type="sunspec", link=ModbusLink(port=port)), store, clock, transports
        )
        assert await driver.loop.cycle()
        reading = store.snapshot().fresh("inverter")
        assert isinstance(reading, InverterReading)
        assert reading.state is InverterState.FAULT and reading.fault_code == 0x80
    finally:
        transports.close()
        await emulator.stop()


async def test_legacy_103_124_inverter_reads_and_commands_in_percent() -> None:
    plant = StaticPlant(
        {
            "m103_w_sf": 0,
            "m103_w": 4000.0,
            "m103_hz_sf": -2,
            "m103_hz": 49.95,
            "m103_st": 4,
            "m103_evt1": 0,
            "m124_inoutwrte_sf": 0,
        }
    )
    emulator, _ = sunspec_emulator(plant, LEGACY_INVERTER_MODELS)
    port = await emulator.start_tcp()
    clock = SimClock()
    transports = Transports(clock)
    try:
        store = DataStore(clock)
        config = InverterConfig(type="sunspec", link=ModbusLink(port=port), max_power_w=10_000.0)
        driver = await build_inverter(config, store, clock, transports)
        assert await driver.loop.cycle()
        reading = store.snapshot().fresh("inverter")
        assert isinstance(reading, InverterReading)
        assert reading.power_w == pytest.approx(4000.0) and reading.freq_hz == pytest.approx(49.95)
        clock.advance(1.0)
        await driver.set_power(-5000.0)
        assert ("m124_inwrte", 50.0) in plant.writes and ("m124_outwrte", 0.0) in plant.writes
    finally:
        transports.close()
        await emulator.stop()


@pytest.mark.parametrize("model_id", sunspec.METER_MODELS)
async def test_sunspec_meters_import_positive(model_id: int) -> None:
    phases = sunspec.PHASES[model_id]
    m = f"m{model_id}_"
    state: dict[str, float | str] = {
        m + "w_sf": 0,
        m + "w": 2500.0,
        m + "hz_sf": -2,
        m + "hz": 50.01,
        m + "v_sf": -1,
        m + "phv": 230.2,
        m + "a_sf": -2,
        m + "totwh_sf": 0,
        m + "totwhimp": 1_000_000.0,
        m + "totwhexp": 2000.0,
        m + "var_sf": 0,
        m + "var": -100.0,
    }
    for x in phases:
        state.update({f"{m}phvph{x}": 230.0, f"{m}aph{x}": 3.62, f"{m}wph{x}": 2500.0 / len(phases)})
    emulator, _ = sunspec_emulator(StaticPlant(state), (1, model_id))
    port = await emulator.start_tcp()
    clock = SystemClock()
    transports = Transports(clock)
    try:
        store = DataStore(clock)
        meter = await build_meter(
            MeterConfig(type="sunspec", role="load", link=ModbusLink(port=port)), store, clock, transports
        )
        assert await meter.loop.cycle()
        reading = store.snapshot().fresh("meter.load")
        assert isinstance(reading, MeterReading)
        assert reading.power_w == pytest.approx(2500.0)
        assert reading.freq_hz == pytest.approx(50.01)
        assert reading.import_energy_wh == pytest.approx(1_000_000.0)
        assert reading.phase_current_a == pytest.approx((3.62,) * len(phases))
        assert len(reading.phase_power_w) == len(phases)
    finally:
        transports.close()
        await emulator.stop()


async def test_sunspec_set_power_is_three_writes_with_enable_mode_and_value_together() -> None:
    plant = StaticPlant(dict(INVERTER))
    emulator, regmap = sunspec_emulator(plant)
    port = await emulator.start_tcp()
    clock = SimClock()
    transports = Transports(clock)
    try:
        config = InverterConfig(type="sunspec", link=ModbusLink(port=port), ramp_w_per_s=1e8)
        driver = await build_inverter(config, DataStore(clock), clock, transports)
        clock.advance(1.0)
        emulator.requests.clear()
        await driver.set_power(5000.0)
        writes = [r for r in emulator.requests if r[0] in (6, 16)]
        wset_ena = regmap.points["m704_wsetena"].address
        assert writes[0] == (16, wset_ena, 4)  # WSetEna, WSetMod, WSet (int32)
        assert len(writes) == 3
    finally:
        transports.close()
        await emulator.stop()
