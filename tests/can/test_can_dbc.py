"""Every DBC in dbc/ loads in cantools, every binding matches its DBC, and the LV DBC matches the
reference signal table (start, length, sign, scale, offset, unit) field by field."""

from __future__ import annotations

from pathlib import Path

import cantools
import pytest

from sitecontroller.bms.binding import default_dbc_dir, load_binding

DBC_DIR = default_dbc_dir()
DBC_FILES = sorted(DBC_DIR.glob("*.dbc"))
BINDINGS = sorted(p.name.removesuffix(".binding.json") for p in DBC_DIR.glob("*.binding.json"))


def test_dbc_directory_is_populated() -> None:
    assert {p.name for p in DBC_FILES} >= {"pylontech.dbc", "cbms.dbc", "nbms_2_3.dbc", "nbms_2_5.dbc"}
    assert set(BINDINGS) == {"pylontech", "cbms", "nbms_2_3", "nbms_2_5"}


@pytest.mark.parametrize("path", DBC_FILES, ids=lambda p: p.name)
def test_cantools_loads_every_dbc(path: Path) -> None:
    db = cantools.database.load_file(path, strict=True)
    assert db.messages
    for message in db.messages:
        assert message.signals, message.name
        assert message.length <= 8


@pytest.mark.parametrize("bms_type", BINDINGS)
def test_binding_loads_against_its_dbc(bms_type: str) -> None:
    binding = load_binding(bms_type)
    assert binding.presence in {m.name for m in binding.db.messages}


# (message id, signal) -> (start, length, signed, scale, offset, unit), from can-bms-protocol.md section 2.
LV_REFERENCE = {
    (0x351, "ChargeVoltageLimit"): (0, 16, False, 0.1, 0, "V"),
    (0x351, "ChargeCurrentLimit"): (16, 16, True, 0.1, 0, "A"),
    (0x351, "DischargeCurrentLimit"): (32, 16, True, 0.1, 0, "A"),
    (0x351, "DischargeVoltageLimit"): (48, 16, False, 0.1, 0, "V"),
    (0x355, "SOC"): (0, 16, False, 1, 0, "%"),
    (0x355, "SOH"): (16, 16, False, 1, 0, "%"),
    (0x355, "SOC_HighRes"): (32, 16, False, 0.01, 0, "%"),
    (0x356, "BatteryVoltage"): (0, 16, True, 0.01, 0, "V"),
    (0x356, "BatteryCurrent"): (16, 16, True, 0.1, 0, "A"),
    (0x356, "BatteryTemperature"): (32, 16, True, 0.1, 0, "degC"),
    (0x359, "Prot_CellOverVoltage"): (1, 1, False, 1, 0, ""),
    (0x359, "Prot_CellUnderVoltage"): (2, 1, False, 1, 0, ""),
    (0x359, "Prot_CellOverTemp"): (3, 1, False, 1, 0, ""),
    (0x359, "Prot_CellUnderTemp"): (4, 1, False, 1, 0, ""),
    (0x359, "Prot_DischargeOverCurrent"): (7, 1, False, 1, 0, ""),
    (0x359, "Prot_ChargeOverCurrent"): (8, 1, False, 1, 0, ""),
    (0x359, "Prot_SystemError"): (11, 1, False, 1, 0, ""),
    (0x359, "Prot_SystemError_Alt"): (15, 1, False, 1, 0, ""),
    (0x359, "Alarm_CellHighVoltage"): (17, 1, False, 1, 0, ""),
    (0x359, "Alarm_CellLowVoltage"): (18, 1, False, 1, 0, ""),
    (0x359, "Alarm_CellHighTemp"): (19, 1, False, 1, 0, ""),
    (0x359, "Alarm_CellLowTemp"): (20, 1, False, 1, 0, ""),
    (0x359, "Alarm_DischargeHighCurrent"): (23, 1, False, 1, 0, ""),
    (0x359, "Alarm_ChargeHighCurrent"): (24, 1, False, 1, 0, ""),
    (0x359, "Alarm_InternalCommFail"): (27, 1, False, 1, 0, ""),
    (0x359, "Alarm_InternalCommFail_Alt"): (31, 1, False, 1, 0, ""),
    (0x359, "ModuleCount"): (32, 8, False, 1, 0, ""),
    (0x359, "Token1"): (40, 8, False, 1, 0, ""),
    (0x359, "Token2"): (48, 8, False, 1, 0, ""),
    (0x35C, "FullChargeRequest"): (3, 1, False, 1, 0, ""),
    (0x35C, "ForceChargeRequest_II"): (4, 1, False, 1, 0, ""),
    (0x35C, "ForceChargeRequest_I"): (5, 1, False, 1, 0, ""),
    (0x35C, "DischargeEnable"): (6, 1, False, 1, 0, ""),
    (0x35C, "ChargeEnable"): (7, 1, False, 1, 0, ""),
    (0x35A, "GeneralAlarm"): (0, 2, False, 1, 0, ""),
    (0x35A, "HighVoltageAlarm"): (2, 2, False, 1, 0, ""),
    (0x35A, "LowVoltageAlarm"): (4, 2, False, 1, 0, ""),
    (0x35A, "HighTempAlarm"): (6, 2, False, 1, 0, ""),
    (0x35A, "LowTempAlarm"): (8, 2, False, 1, 0, ""),
    (0x35A, "HighTempChargeAlarm"): (10, 2, False, 1, 0, ""),
    (0x35A, "LowTempChargeAlarm"): (12, 2, False, 1, 0, ""),
    (0x35A, "HighCurrentAlarm"): (14, 2, False, 1, 0, ""),
    (0x35A, "HighChargeCurrentAlarm"): (16, 2, False, 1, 0, ""),
    (0x35A, "ContactorAlarm"): (18, 2, False, 1, 0, ""),
    (0x35A, "ShortCircuitAlarm"): (20, 2, False, 1, 0, ""),
    (0x35A, "BmsInternalAlarm"): (22, 2, False, 1, 0, ""),
    (0x35A, "CellImbalanceAlarm"): (24, 2, False, 1, 0, ""),
    (0x35A, "GeneralWarning"): (32, 2, False, 1, 0, ""),
    (0x35A, "CellImbalanceWarning"): (56, 2, False, 1, 0, ""),
    (0x35A, "SystemOnline"): (58, 2, False, 1, 0, ""),
    (0x35F, "CellChemistry"): (0, 16, False, 1, 0, ""),
    (0x35F, "HardwareVersion"): (16, 16, False, 1, 0, ""),
    (0x35F, "OnlineCapacity"): (32, 16, False, 1, 0, "Ah"),
    (0x35F, "SoftwareVersion"): (48, 16, False, 1, 0, ""),
    (0x372, "NrOfModulesOnline"): (0, 16, False, 1, 0, ""),
    (0x372, "NrOfModulesBlockingCharge"): (16, 16, False, 1, 0, ""),
    (0x372, "NrOfModulesBlockingDischarge"): (32, 16, False, 1, 0, ""),
    (0x372, "NrOfModulesOffline"): (48, 16, False, 1, 0, ""),
    (0x373, "MinCellVoltage"): (0, 16, False, 0.001, 0, "V"),
    (0x373, "MaxCellVoltage"): (16, 16, False, 0.001, 0, "V"),
    (0x373, "MinCellTemperature"): (32, 16, False, 1, -273.15, "degC"),
    (0x373, "MaxCellTemperature"): (48, 16, False, 1, -273.15, "degC"),
    (0x378, "ChargedEnergy"): (0, 32, False, 0.1, 0, "kWh"),
    (0x378, "DischargedEnergy"): (32, 32, False, 0.1, 0, "kWh"),
    (0x379, "InstalledCapacity"): (0, 16, False, 1, 0, "Ah"),
    (0x305, "InvBatteryVoltage"): (0, 16, False, 0.1, 0, "V"),
    (0x305, "InvBatteryCurrent"): (16, 16, True, 0.1, 0, "A"),
    (0x305, "InvBatteryTemperature"): (32, 16, True, 0.1, 0, "degC"),
    (0x305, "InvSoc"): (48, 16, False, 0.1, 0, "%"),
}


def test_lv_dbc_matches_the_reference_table() -> None:
    db = cantools.database.load_file(DBC_DIR / "pylontech.dbc", strict=True)
    for (frame_id, name), (start, length, signed, scale, offset, unit) in LV_REFERENCE.items():
        sig = db.get_message_by_frame_id(frame_id).get_signal_by_name(name)
        assert sig.byte_order == "little_endian", name
        assert (sig.start, sig.length, sig.is_signed, sig.scale, sig.offset, sig.unit or "") == (
            start,
            length,
            signed,
            scale,
            offset,
            unit,
        ), name
    for chars in (0x35E, 0x370, 0x371):
        assert [s.start for s in db.get_message_by_frame_id(chars).signals] == list(range(0, 64, 8))
