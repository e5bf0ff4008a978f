"""Hand-packed wire bytes (built from the reference, not from our DBC) through the virtual bus into
a BmsReading: values, units and signs, including every disputed point of the LV protocol."""

from __future__ import annotations

import struct

import can
import pytest
from bms_harness import FakeBattery, Harness

from sitecontroller.bms import errors as e
from sitecontroller.safety.errors import Severity


def frame(frame_id: int, data: bytes, extended: bool = False) -> can.Message:
    return can.Message(arbitration_id=frame_id, data=data, is_extended_id=extended)


def lv_base(current_raw: int = 123, dcl_raw: int = 750, ccl_raw: int = 500) -> list[can.Message]:
    return [
        frame(0x351, struct.pack("<HhhH", 560, ccl_raw, dcl_raw, 460)),
        frame(0x355, struct.pack("<HH", 63, 97)),
        frame(0x356, struct.pack("<hhh", 5230, current_raw, 251)),
        frame(0x35C, bytes([0xC0, 0x00])),
    ]


async def lv_reading(frames: list[can.Message]):
    async with Harness("pylontech", FakeBattery()) as h:
        h.clock.advance(1.0)
        await h.deliver(frames)
        return h.service.step(), h


async def test_lv_measurements_units_and_current_sign() -> None:
    reading, _ = await lv_reading(lv_base(current_raw=123))
    assert reading is not None
    assert reading.voltage_v == pytest.approx(52.30)
    # +12.3 A on the wire is charging; our convention is positive = discharge.
    assert reading.current_a == pytest.approx(-12.3)
    assert reading.soc_pct == pytest.approx(63)
    assert reading.soh_pct == pytest.approx(97)
    assert reading.cell_temp_min_c == pytest.approx(25.1)  # 0x356 temperature when 0x373 is absent
    assert reading.charge_current_limit_a == pytest.approx(50.0)
    assert reading.power_w == pytest.approx(52.30 * -12.3)


@pytest.mark.parametrize("dcl_raw", [750, -750], ids=["positive", "negative_pylon_doc"])
async def test_lv_discharge_limit_sign_is_disputed_so_abs(dcl_raw: int) -> None:
    reading, _ = await lv_reading(lv_base(dcl_raw=dcl_raw))
    assert reading is not None and reading.discharge_current_limit_a == pytest.approx(75.0)


async def test_lv_negative_charge_limit_means_no_charge_never_abs() -> None:
    reading, _ = await lv_reading(lv_base(ccl_raw=-100))
    assert reading is not None and reading.charge_current_limit_a == 0.0


async def test_lv_short_dlc_variants_are_accepted() -> None:
    frames = lv_base()
    frames[0] = frame(0x351, struct.pack("<Hhh", 560, 500, 750))  # Pylon: DLC 6 without DVL
    reading, h = await lv_reading(frames)
    assert reading is not None and reading.discharge_current_limit_a == pytest.approx(75.0)
    assert h.service.can.health().counters.decode_failures == 0


async def test_lv_soc_high_resolution_preferred_and_ffff_is_not_available() -> None:
    frames = lv_base()
    frames[1] = frame(0x355, struct.pack("<HHHH", 63, 97, 6345, 0))
    reading, _ = await lv_reading(frames)
    assert reading is not None and reading.soc_pct == pytest.approx(63.45)
    frames[1] = frame(0x355, struct.pack("<HHHH", 63, 97, 0xFFFF, 0))
    reading, _ = await lv_reading(frames)
    assert reading is not None and reading.soc_pct == pytest.approx(63)


async def test_lv_cell_extremes_in_kelvin() -> None:
    reading, _ = await lv_reading([*lv_base(), frame(0x373, struct.pack("<HHHH", 3281, 3342, 291, 305))])
    assert reading is not None
    assert (reading.cell_voltage_min_v, reading.cell_voltage_max_v) == pytest.approx((3.281, 3.342))
    assert (reading.cell_temp_min_c, reading.cell_temp_max_c) == pytest.approx((17.85, 31.85))


async def test_lv_enable_bits_zero_the_limits() -> None:
    frames = lv_base()
    frames[3] = frame(0x35C, bytes([0x40, 0x00]))  # discharge enabled, charge disabled
    reading, _ = await lv_reading(frames)
    assert reading is not None
    assert reading.charge_current_limit_a == 0.0 and reading.discharge_current_limit_a == pytest.approx(75.0)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (bytes([0x02, 0, 0, 0, 1, 0x50, 0x4E]), e.PROTECTION_ERRORS["over_voltage"]),
        (bytes([0x04, 0, 0, 0, 1, 0x50, 0x4E]), e.PROTECTION_ERRORS["under_voltage"]),
        (bytes([0x08, 0, 0, 0, 1, 0x50, 0x4E]), e.PROTECTION_ERRORS["over_temp"]),
        (bytes([0x10, 0, 0, 0, 1, 0x50, 0x4E]), e.PROTECTION_ERRORS["under_temp"]),
        (bytes([0x80, 0, 0, 0, 1, 0x50, 0x4E]), e.PROTECTION_ERRORS["discharge_over_current"]),
        (bytes([0, 0x01, 0, 0, 1, 0x50, 0x4E]), e.PROTECTION_ERRORS["charge_over_current"]),
        (bytes([0, 0x08, 0, 0, 1, 0x50, 0x4E]), e.PROTECTION_ERRORS["system_error"]),  # AERL/diyBMS bit
        (bytes([0, 0x80, 0, 0, 1, 0x50, 0x4E]), e.PROTECTION_ERRORS["system_error"]),  # ArminJo bit
        (bytes([0, 0, 0x02, 0, 1, 0x50, 0x4E]), e.ALARM_ERRORS["high_voltage"]),
        (bytes([0, 0, 0x04, 0, 1, 0x50, 0x4E]), e.ALARM_ERRORS["low_voltage"]),
        (bytes([0, 0, 0x08, 0, 1, 0x50, 0x4E]), e.ALARM_ERRORS["high_temp"]),
        (bytes([0, 0, 0x10, 0, 1, 0x50, 0x4E]), e.ALARM_ERRORS["low_temp"]),
        (bytes([0, 0, 0x80, 0, 1, 0x50, 0x4E]), e.ALARM_ERRORS["discharge_high_current"]),
        (bytes([0, 0, 0, 0x01, 1, 0x50, 0x4E]), e.ALARM_ERRORS["charge_high_current"]),
        (bytes([0, 0, 0, 0x08, 1, 0x50, 0x4E]), e.ALARM_ERRORS["internal_comm_fail"]),
        (bytes([0, 0, 0, 0x80, 1, 0x50, 0x4E]), e.ALARM_ERRORS["internal_comm_fail"]),
    ],
)
async def test_lv_pylon_flags_raise_the_right_error(data: bytes, error) -> None:
    _, h = await lv_reading([*lv_base(), frame(0x359, data)])
    active = h.errors.active()
    assert [a.id for a in active] == [error.id]
    assert active[0].source.value == "bms"
    assert active[0].severity == error.severity


@pytest.mark.parametrize(("field_value", "active"), [(1, True), (2, False), (0, False), (3, False)])
async def test_lv_victron_two_bit_fields_one_is_active(field_value: int, active: bool) -> None:
    # HighVoltageAlarm at bits 2-3, every other field "ok" (2): 0b10 everywhere is 0xAA.
    data = bytearray([0xAA] * 8)
    data[0] = (0xAA & ~0x0C) | (field_value << 2)
    _, h = await lv_reading([*lv_base(), frame(0x35A, bytes(data))])
    assert h.errors.is_active(e.PROTECTION_ERRORS["over_voltage"]) is active


async def test_cbms_current_sign_scaling_and_rack_in_id() -> None:
    async with Harness("cbms", FakeBattery(), racks=(3,)) as h:
        h.clock.advance(1.0)
        await h.deliver(
            [
                # 0x200 | rack 3: 812.4 V, +25.0 A on the wire = charging, SoC 0.5 % steps, SoH, run.
                frame(0x203, struct.pack("<HhBBBB", 8124, 250, 121, 190, 0x13, 0)),
                frame(0x233, struct.pack("<HHHH", 1200, 1500, 9000, 7000)),
            ]
        )
        reading = h.service.step()
    assert reading is not None
    assert reading.voltage_v == pytest.approx(812.4)
    assert reading.current_a == pytest.approx(-25.0)
    assert reading.soc_pct == pytest.approx(60.5)
    assert reading.soh_pct == pytest.approx(95.0)
    assert (reading.charge_current_limit_a, reading.discharge_current_limit_a) == pytest.approx((120, 150))
    assert reading.racks[0].rack_id == 3


@pytest.mark.parametrize("bms_type", ["nbms_2_3", "nbms_2_5"])
async def test_nbms_current_offset_and_version_scaling(bms_type: str) -> None:
    if bms_type == "nbms_2_3":
        status = struct.pack("<HHBBBB", 7000, 32000 + 105, 47, 99, 0x03, 0)  # SoC 1 %
    else:
        status = struct.pack("<HHHBB", 7000, 32000 + 105, 473, 99, 0x23)  # SoC 0.1 %, balancing bit
    async with Harness(bms_type, FakeBattery(), racks=(2,)) as h:
        h.clock.advance(1.0)
        await h.deliver([frame(0x181002F4, status, extended=True)])
        reading = h.service.step()
    assert reading is not None
    assert reading.voltage_v == pytest.approx(700.0)
    assert reading.current_a == pytest.approx(10.5)  # offset -3200 A, positive = discharge
    assert reading.soc_pct == pytest.approx(47.0 if bms_type == "nbms_2_3" else 47.3)
    assert reading.racks[0].balancing is (bms_type == "nbms_2_5")
    # Limits frame missing: unknown, never invented.
    assert reading.charge_current_limit_a is None


def test_protection_severities() -> None:
    assert e.PROTECTION_ERRORS["over_voltage"].severity == Severity.CRITICAL
    assert e.PROTECTION_ERRORS["under_voltage"].severity == Severity.ERROR
    assert all(a.severity == Severity.WARNING for a in e.ALARM_ERRORS.values())
