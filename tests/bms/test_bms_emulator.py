"""The BMS emulator: protocol rates from the DBC, per-cell frames, and the simulator's battery
plant reaching the production BMS code over CAN; plus the factory."""

from __future__ import annotations

import pytest
from bms_harness import FakeBattery, FakeRack, Harness

from sitecontroller.bms.binding import load_binding
from sitecontroller.bms.can_service import CanBmsService
from sitecontroller.bms.factory import build_bms_service
from sitecontroller.config.bms import BmsConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.runtime.sysinfo import SysInfo
from sitecontroller.safety.errors import ErrorHandler
from sitecontroller.sim.battery import BatteryPlant
from sitecontroller.sim.bms_emulator import BmsEmulator


def names(frames, binding) -> list[str]:
    by_id = {m.frame_id: m.name for m in binding.db.messages}
    mask = binding.rack_layout.mask if binding.rack_layout else 0
    return [by_id[f.arbitration_id & ~mask] for f in frames]


def test_frames_follow_the_dbc_cycle_times() -> None:
    binding = load_binding("cbms")
    emulator = BmsEmulator(binding, lambda: FakeBattery([FakeRack(0), FakeRack(1)]), bus=None)  # type: ignore[arg-type]
    first = names(emulator.frames_due(0.0), binding)
    # 100 ms + 500 ms + 1 s frames, per-cell frames in every group: 16 voltage + 4 temperature groups.
    assert first.count("RackCellVoltages") == 2 * 16 and first.count("RackCellTemps") == 2 * 4
    assert first.count("RackStatus") == 2
    assert "BalanceCommand" not in first  # sent by the EMS, not the BMS
    assert sorted(set(names(emulator.frames_due(0.1), binding))) == ["RackFaults", "RackLimits", "RackStatus"]
    assert "RackCellVoltage" in names(emulator.frames_due(0.5), binding)
    fresh = BmsEmulator(binding, lambda: FakeBattery([FakeRack(0), FakeRack(1)]), bus=None)  # type: ignore[arg-type]
    per_second = sum(len(fresh.frames_due(0.1 * k)) for k in range(10))
    assert per_second == 2 * (10 * 3 + 2 * 2 + 16 + 4)  # two racks: 100 ms, 500 ms, 1 s frames


async def test_the_simulated_plant_reaches_the_bms_controller_over_can() -> None:
    plant = BatteryPlant(capacity_wh=200_000, soc_pct=70.0, racks=2, cells_in_series=16)
    plant.step(power_w=20_000.0, dt_s=1.0)  # discharging
    async with Harness("nbms_2_5", plant, racks=(0, 1)) as h:
        reading = await h.cycle()
    assert reading is not None
    assert reading.current_a == pytest.approx(plant.current_a, abs=0.3)
    assert reading.current_a > 0
    assert reading.soc_pct == pytest.approx(plant.soc_pct, abs=0.2)
    assert reading.voltage_v == pytest.approx(plant.voltage_v, abs=0.1)
    assert reading.cell_voltage_max_v == pytest.approx(plant.cell_voltage_max_v, abs=0.002)


@pytest.mark.parametrize("bms_type", ["pylontech", "cbms", "nbms_2_3", "nbms_2_5"])
def test_factory_builds_a_can_service_per_type(bms_type: str) -> None:
    clock = SimClock()
    store = DataStore(clock)
    service = build_bms_service(BmsConfig(type=bms_type), clock, store, ErrorHandler(clock), SysInfo())
    assert isinstance(service, CanBmsService)
    assert store.snapshot().timeouts_s["bms"] == 3.0


def test_single_pack_protocol_refuses_several_racks() -> None:
    clock = SimClock()
    with pytest.raises(ValueError, match="one pack"):
        CanBmsService(BmsConfig(racks=(0, 1)), clock, DataStore(clock), ErrorHandler(clock), SysInfo())
