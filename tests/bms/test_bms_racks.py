"""Multi-rack BMS through the emulator and a real virtual bus: aggregation, rack dropout, every
emulated fault -> the right error, and a silent BMS -> stale "bms" and 0 W, in simulated time."""

from __future__ import annotations

import pytest
from bms_harness import FakeBattery, FakeRack, Harness

from sitecontroller.bms import errors as e
from sitecontroller.bms.aggregate import cell_max_v, cell_temp_max_c
from sitecontroller.bms.power_limit import BmsPowerLimiter
from sitecontroller.bms.racks import RackSample
from sitecontroller.config.bms import PowerLimitConfig
from sitecontroller.safety.limiter import ChargeLimiter, PowerLimit

HV_TYPES = ["cbms", "nbms_2_3", "nbms_2_5"]


def three_racks() -> FakeBattery:
    cells = [3.30 + 0.001 * k for k in range(16)]
    return FakeBattery(
        [
            FakeRack(0, soc_pct=40.0, current_a=30.0, voltage_v=800.0, cell_voltages_v=cells),
            FakeRack(1, soc_pct=50.0, current_a=20.0, voltage_v=801.0, cell_voltages_v=[3.28] * 16),
            FakeRack(2, soc_pct=60.0, current_a=-5.0, voltage_v=802.0, cell_temps_c=[20.0] * 15 + [31.0]),
        ]
    )


@pytest.mark.parametrize("bms_type", HV_TYPES)
async def test_multi_rack_aggregation(bms_type: str) -> None:
    async with Harness(bms_type, three_racks(), racks=(0, 1, 2), rack_capacity_ah=280.0) as h:
        reading = await h.cycle()
    assert reading is not None
    assert (reading.racks_online, reading.racks_total) == (3, 3)
    assert reading.current_a == pytest.approx(45.0, abs=0.3)  # sum, positive = discharge
    assert reading.voltage_v == pytest.approx(801.0, abs=0.1)
    assert reading.soc_pct == pytest.approx(50.0, abs=0.5)  # equal capacities
    assert reading.cell_voltage_min_v == pytest.approx(3.28)
    assert reading.cell_voltage_max_v == pytest.approx(3.315)
    assert reading.cell_temp_max_c == pytest.approx(31.0)
    # The emulated BMS gives 100 A per rack away from the ends: weakest x racks online.
    assert reading.charge_current_limit_a == pytest.approx(300.0)
    assert [r.rack_id for r in reading.racks] == [0, 1, 2]
    assert len(h.service.controller.samples[0].cell_voltages_v) == h.service.binding.cell_voltages.count


async def test_rack_weighting_by_reported_capacity() -> None:
    battery = three_racks()
    async with Harness("nbms_2_5", battery, racks=(0, 1, 2)) as h:
        h.emulator._capacity_ah = 100.0
        reading = await h.cycle()
    assert reading is not None and reading.soc_pct == pytest.approx(50.0, abs=0.2)


@pytest.mark.parametrize("bms_type", HV_TYPES)
async def test_rack_dropout_shrinks_limits_and_warns(bms_type: str) -> None:
    async with Harness(bms_type, three_racks(), racks=(0, 1, 2)) as h:
        await h.cycle()
        h.emulator.faults.silent_racks = {1}
        reading = await h.cycle(0.6)
        assert reading is not None and reading.racks_online == 3  # not timed out yet (1 s)
        reading = await h.cycle(0.6)
        assert reading is not None
        assert (reading.racks_online, reading.racks_total) == (2, 3)
        assert reading.charge_current_limit_a == pytest.approx(200.0)
        assert reading.current_a == pytest.approx(25.0, abs=0.3)
        assert h.errors.is_active(e.RACK_OFFLINE)
        assert "[1]" in next(a.detail for a in h.errors.active() if a.id == e.RACK_OFFLINE.id)
        h.emulator.faults.silent_racks = set()
        reading = await h.cycle()
        assert reading is not None and reading.racks_online == 3
        assert not h.errors.is_active(e.RACK_OFFLINE)


@pytest.mark.parametrize("bms_type", ["pylontech", "cbms"])
async def test_silent_bms_goes_stale_and_the_setpoint_is_zero_within_the_timeout(bms_type: str) -> None:
    battery = FakeBattery([FakeRack(0, voltage_v=52.0 if bms_type == "pylontech" else 800.0)])
    async with Harness(bms_type, battery, racks=(0,), timeout_s=3.0) as h:
        limiter = ChargeLimiter(ramp_w_per_s=1e9)
        bms_limit = BmsPowerLimiter(PowerLimitConfig(recovery_ramp_w_per_s=1e6))
        grid = PowerLimit("grid", 1e6, 1e6)
        for _ in range(4):  # the BMS limit soft-starts from 0 W at its recovery ramp
            await h.cycle(0.5)
            snap = h.store.snapshot()
            out = limiter.apply(2000.0, [grid, bms_limit.limit(snap.fresh("bms"), snap.at_s)], snap.at_s)
        assert snap.fresh("bms") is not None
        assert out.power_w == pytest.approx(2000.0)

        h.emulator.faults.silent = True
        silent_at_s = h.clock.monotonic()
        published = h.store.snapshot().readings["bms"].at_s
        tripped_at_s = None
        while h.clock.monotonic() - silent_at_s <= h.config.timeout_s + 1.0:
            await h.cycle(0.1)  # no frames are sent any more
            snap = h.store.snapshot()
            out = limiter.apply(2000.0, [grid, bms_limit.limit(snap.fresh("bms"), snap.at_s)], snap.at_s)
            if snap.is_stale("bms"):
                tripped_at_s = tripped_at_s or snap.at_s
                assert out.power_w == 0.0 and out.limited_by == "bms"
        assert tripped_at_s is not None
        # Nothing was put after the BMS went silent, and the trip came within the configured timeout.
        assert h.store.snapshot().readings["bms"].at_s <= silent_at_s + 2.5
        assert tripped_at_s - silent_at_s <= h.config.timeout_s
        assert h.store.snapshot().readings["bms"].at_s >= published


@pytest.mark.parametrize("flag", sorted(e.PROTECTION_ERRORS))
@pytest.mark.parametrize("bms_type", HV_TYPES)
async def test_each_protection_bit_raises_its_error(bms_type: str, flag: str) -> None:
    async with Harness(bms_type, three_racks(), racks=(0, 1, 2)) as h:
        h.emulator.faults.protections = {2: {flag}}
        reading = await h.cycle()
        assert reading is not None and flag in reading.protections
        error = e.PROTECTION_ERRORS[flag]
        assert h.active_ids() == {error.id}
        active = h.errors.active()[0]
        assert (active.severity, active.source.value, active.detail) == (error.severity, "bms", "racks [2]")
        h.emulator.faults.protections = {}
        await h.cycle()
        assert h.active_ids() == set()


@pytest.mark.parametrize("flag", sorted(e.ALARM_ERRORS))
async def test_each_alarm_bit_raises_a_warning(flag: str) -> None:
    async with Harness("cbms", three_racks(), racks=(0, 1, 2)) as h:
        h.emulator.faults.alarms = {0: {flag}}
        await h.cycle()
        assert h.active_ids() == {e.ALARM_ERRORS[flag].id}


@pytest.mark.parametrize("flag", ["over_voltage", "under_voltage", "system_error", "short_circuit"])
async def test_lv_protection_through_emulator(flag: str) -> None:
    async with Harness("pylontech", FakeBattery()) as h:
        h.emulator.faults.protections = {0: {flag}}
        await h.cycle()
        assert h.active_ids() == {e.PROTECTION_ERRORS[flag].id}


async def test_cell_over_and_under_voltage_derate_the_power_limit() -> None:
    params = PowerLimitConfig(recovery_ramp_w_per_s=1e6)
    async with Harness("cbms", three_racks(), racks=(0, 1, 2)) as h:
        limiter = BmsPowerLimiter(params)
        limiter.limit(await h.cycle(), h.clock.monotonic())  # soft start from 0 W
        reading = await h.cycle()
        normal = limiter.limit(reading, h.clock.monotonic())
        assert normal.charge_w > 0 and normal.discharge_w > 0
        h.emulator.faults.cell_override_v = {1: 3.66}
        reading = await h.cycle()
        assert reading is not None and reading.cell_voltage_max_v == pytest.approx(3.66)
        over = limiter.limit(reading, h.clock.monotonic())
        assert over.charge_w == 0.0 and over.discharge_w == pytest.approx(normal.discharge_w, rel=0.01)
        h.emulator.faults.cell_override_v = {1: 2.85}
        reading = await h.cycle()
        under = limiter.limit(reading, h.clock.monotonic())
        assert under.discharge_w == 0.0 and under.charge_w > 0


async def test_corrupt_frames_from_the_bms_are_counted_and_decoding_goes_on() -> None:
    async with Harness("cbms", three_racks(), racks=(0, 1, 2)) as h:
        h.emulator.faults.corrupt_every = 7
        for _ in range(4):
            reading = await h.cycle(0.3)
        assert reading is not None and reading.racks_online == 3
        assert h.service.can.health().counters.decode_failures > 0
        assert h.errors.is_active(e.CAN_DECODE_FAILURE)
        h.emulator.faults.corrupt_every = 0
        await h.cycle(61.0)
        assert not h.errors.is_active(e.CAN_DECODE_FAILURE)


async def test_cell_balancing_is_commanded_over_can_and_recorded() -> None:
    spread = [3.40] * 15 + [3.45]
    battery = FakeBattery(
        [
            FakeRack(0, soc_pct=97.0, cell_voltages_v=spread),
            FakeRack(1, soc_pct=97.0, cell_voltages_v=[3.40] * 16),
        ]
    )
    async with Harness("cbms", battery, racks=(0, 1), cell_balance=True) as h:
        await h.cycle()
        command = h.service.binding.message("BalanceCommand")
        sent = [h.tx.recv(1.0) for _ in range(2)]
        assert [f.arbitration_id for f in sent] == [0x2F0, 0x2F1]
        decoded = command.decode(sent[0].data)
        assert decoded["BalanceEnable"] == 1
        assert decoded["BalanceTargetVoltage"] == pytest.approx(3.40)
        assert decoded["BalanceMaxDuration"] == 240
        battery.racks[0].cell_voltages_v = [3.40] * 16
        await h.cycle(600.0)
        stop = [h.tx.recv(1.0) for _ in range(2)]
        assert command.decode(stop[0].data)["BalanceEnable"] == 0
        event = h.sysinfo.cell_balance_history[-1]
        assert event["reason"] == "balanced" and event["duration_s"] == pytest.approx(600.0)


def test_cell_extremes_fall_back_to_the_per_cell_frames() -> None:
    s = RackSample(0, True, cell_voltages_v=(3.30, None, 3.35), cell_temps_c=(20.0, 24.0))
    assert cell_max_v(s) == 3.35 and cell_temp_max_c(s) == 24.0
    assert cell_temp_max_c(RackSample(0, True, cell_temp_max_c=30.0, cell_temps_c=(20.0,))) == 30.0
