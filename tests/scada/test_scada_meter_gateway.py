"""The meter gateway: the site meter republished in its original map (decoded back with the drivers'
own codec) and as SunSpec 203 in the SunSpec view."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sunspec2.modbus.client as ssclient
from scada_site import ScadaSite

from sitecontroller.config.scada import GatewayMeter, MeterGatewayConfig, ScadaConfig
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.readings import MeterReading
from sitecontroller.devices import codec
from sitecontroller.devices.maploader import DEFAULT_MAP_DIR, load_map_file
from sitecontroller.scada.errors import ExceptionCode

READING = MeterReading(
    power_w=-3210.5, reactive_power_var=120.0, freq_hz=49.98, voltage_v=231.2,
    import_energy_wh=1_234_500.0, export_energy_wh=98_700.0,
    phase_voltage_v=(230.1, 231.2, 232.3), phase_current_a=(4.5, 4.6, 4.7),
    phase_power_w=(-1000.0, -1100.0, -1110.5),
)

PV = MeterReading(power_w=-4200.0, freq_hz=50.01)


@pytest.fixture
async def gateway(single_node_config: SiteConfig, scada_config: ScadaConfig, tmp_path: Path) -> ScadaSite:
    meters = (GatewayMeter(role="grid", unit_id=2), GatewayMeter(role="pv", map_name="em340", unit_id=3))
    gateway = MeterGatewayConfig(enabled=True, meters=meters)
    config = scada_config.model_copy(update={"meter_gateway": gateway})
    site = ScadaSite(single_node_config, config, tmp_path, meters={"grid": lambda: READING, "pv": lambda: PV})
    await site.start()
    from pymodbus.client import AsyncModbusTcpClient

    site.client = AsyncModbusTcpClient("127.0.0.1", port=site.server.port, timeout=2, retries=0)
    await site.client.connect()
    yield site
    site.client.close()
    await site.stop()


async def test_original_map_reads_back_the_reading(gateway: ScadaSite) -> None:
    regmap = load_map_file(DEFAULT_MAP_DIR / "em24_ethernet.json")
    fields = (("power_w", "power_w"), ("freq_hz", "frequency_hz"), ("import_energy_wh", "import_energy_wh"))
    for field, name in fields:
        point = regmap.points[name]
        response = await gateway.client.read_input_registers(point.address, count=point.size, device_id=2)
        assert not response.isError()
        value = codec.to_site(point, codec.decode_raw(point, response.registers))
        assert value == pytest.approx(getattr(READING, field), rel=1e-3)
    model = regmap.points["model_id"]
    response = await gateway.client.read_input_registers(model.address, count=1, device_id=2)
    assert response.registers[0] in regmap.identify.values  # type: ignore[union-attr]
    refused = await gateway.client.write_register(regmap.points["application"].address, 7, device_id=2)
    assert refused.isError() and refused.exception_code == ExceptionCode.ILLEGAL_ADDRESS


async def test_pv_meter_on_its_own_unit(gateway: ScadaSite) -> None:
    point = load_map_file(DEFAULT_MAP_DIR / "em340.json").points["power_w"]
    response = await gateway.client.read_input_registers(point.address, count=point.size, device_id=3)
    assert codec.to_site(point, codec.decode_raw(point, response.registers)) == pytest.approx(PV.power_w)


async def test_sunspec_203_republishes_the_meter(gateway: ScadaSite) -> None:
    dev = ssclient.SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=gateway.server.port)
    try:
        await asyncio.to_thread(dev.scan)
        meter = dev.models[203][0]
        await asyncio.to_thread(meter.read)
        assert meter.W.cvalue == pytest.approx(READING.power_w, abs=1.0)
        assert meter.Hz.cvalue == pytest.approx(49.98)
        assert meter.PhVphB.cvalue == pytest.approx(231.2)
    finally:
        dev.close()
