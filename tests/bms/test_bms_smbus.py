"""SMBus smart battery (BQ40Z50 class) through the real smbus2 code on a fake I2C adapter."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from fake_sbs import UNSEAL_KEYS, FakeSbs
from smbus2 import SMBus

from sitecontroller.bms import errors as e
from sitecontroller.bms.factory import build_bms_service
from sitecontroller.bms.smbus_battery import SbsError, SmartBattery
from sitecontroller.bms.smbus_service import SmbusBmsService
from sitecontroller.config.bms import BmsConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.runtime.sysinfo import SysInfo
from sitecontroller.safety.errors import ErrorHandler


@pytest.fixture
def fake(tmp_path: Path):
    device = FakeSbs()
    (tmp_path / "i2c-1").write_bytes(b"")
    with mock.patch("smbus2.smbus2.ioctl", device.ioctl):
        yield device, str(tmp_path / "i2c-1")


def test_standard_sbs_values_units_and_sign(fake) -> None:
    _device, path = fake
    with SMBus(path) as bus:
        snap = SmartBattery(bus).read()
    assert snap.voltage_v == pytest.approx(13.2)
    assert snap.current_a == pytest.approx(1.5)  # SBS negative = discharging -> ours positive
    assert snap.soc_pct == 64 and snap.soh_pct == 96
    assert snap.temp_c == pytest.approx(24.95)
    assert snap.cell_voltages_v == pytest.approx((3.305, 3.310, 3.300, 3.290))
    assert snap.charging_current_a == pytest.approx(2.0)


def test_seal_unseal_and_data_flash(fake) -> None:
    device, path = fake
    with SMBus(path) as bus:
        battery = SmartBattery(bus)
        assert battery.security_mode() == "sealed"
        with pytest.raises(SbsError):
            battery.unseal((0x1111, 0x2222))
        battery.unseal(UNSEAL_KEYS)
        assert battery.security_mode() == "unsealed"
        assert battery.read_data_flash(0x4010, 40) == bytes(device.flash[0x10:0x38])
        battery.write_data_flash(0x4100, b"\x01\x02\x03")
        assert battery.read_data_flash(0x4100, 3) == b"\x01\x02\x03"
        battery.seal()
        assert battery.security_mode() == "sealed"
        with pytest.raises(ValueError):
            battery.read_data_flash(0x3FF0, 4)


async def test_service_publishes_and_flags_status_bits(fake) -> None:
    device, path = fake
    clock = SimClock()
    store, errors = DataStore(clock), ErrorHandler(clock)
    config = BmsConfig.model_validate({"type": "smbus", "smbus": {"bus": path}})
    service = build_bms_service(config, clock, store, errors, SysInfo())
    assert isinstance(service, SmbusBmsService)
    reading = await service.step()
    assert reading is not None and reading.current_a == pytest.approx(1.5)
    assert reading.discharge_current_limit_a == pytest.approx(10.0)
    assert store.snapshot().fresh("bms") is reading
    device.words[0x16] = 0x8000 | 0x4000  # over-charged alarm + terminate charge
    reading = await service.step()
    assert reading is not None
    assert reading.protections == {"over_voltage"} and reading.alarms == {"high_voltage"}
    assert reading.charge_current_limit_a == 0.0


async def test_battery_not_answering_goes_stale_and_raises(fake) -> None:
    device, path = fake
    clock = SimClock()
    store, errors = DataStore(clock), ErrorHandler(clock)
    config = BmsConfig.model_validate({"type": "smbus", "smbus": {"bus": path}, "timeout_s": 3.0})
    service = SmbusBmsService(config, clock, store, errors)
    await service.step()
    device.present = False
    clock.advance(3.5)
    assert await service.step() is None
    assert errors.is_active(e.SMBUS_FAILURE)
    assert store.snapshot().is_stale("bms")
    device.present = True
    assert await service.step() is not None
    assert not errors.is_active(e.SMBUS_FAILURE)
