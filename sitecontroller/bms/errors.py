"""Error kinds of the battery side. Ids are stable: the cloud and SCADA key on them.

Protections mean the BMS has acted (or is about to open its contactors): the dangerous ones are
Critical (emergency stop until reset), the rest Error. Alarms are early warnings. The stale-"bms"
trip and the cell voltage/temperature limit trips belong to the safety Monitor, not here.
"""

from __future__ import annotations

from sitecontroller.safety.errors import ErrorDef, Severity, Source, define_error

_PROTECTIONS: dict[str, tuple[Severity, str]] = {
    "over_voltage": (Severity.CRITICAL, "BMS protection: cell over-voltage"),
    "under_voltage": (Severity.ERROR, "BMS protection: cell under-voltage"),
    "over_temp": (Severity.CRITICAL, "BMS protection: cell over-temperature"),
    "under_temp": (Severity.ERROR, "BMS protection: cell under-temperature"),
    "discharge_over_current": (Severity.ERROR, "BMS protection: discharge over-current"),
    "charge_over_current": (Severity.ERROR, "BMS protection: charge over-current"),
    "short_circuit": (Severity.CRITICAL, "BMS protection: short circuit"),
    "insulation_fault": (Severity.CRITICAL, "BMS protection: insulation fault"),
    "contactor_fault": (Severity.ERROR, "BMS protection: contactor fault"),
    "system_error": (Severity.ERROR, "BMS protection: BMS system error"),
}
_ALARMS: dict[str, str] = {
    "high_voltage": "BMS alarm: cell voltage high",
    "low_voltage": "BMS alarm: cell voltage low",
    "high_temp": "BMS alarm: cell temperature high",
    "low_temp": "BMS alarm: cell temperature low",
    "discharge_high_current": "BMS alarm: discharge current high",
    "charge_high_current": "BMS alarm: charge current high",
    "internal_comm_fail": "BMS alarm: internal communication failure",
    "cell_imbalance": "BMS alarm: cell imbalance",
}

PROTECTION_ERRORS: dict[str, ErrorDef] = {
    name: define_error(f"BMS_PROT_{name.upper()}", severity, Source.BMS, text)
    for name, (severity, text) in _PROTECTIONS.items()
}
ALARM_ERRORS: dict[str, ErrorDef] = {
    name: define_error(f"BMS_ALARM_{name.upper()}", Severity.WARNING, Source.BMS, text)
    for name, text in _ALARMS.items()
}

RACK_OFFLINE = define_error(
    "BMS_RACK_OFFLINE", Severity.WARNING, Source.BMS, "BMS rack offline: limits reduced to the racks online"
)
SOC_DRIFT = define_error(
    "BMS_SOC_DRIFT", Severity.WARNING, Source.BMS, "BMS SoC drifts from the voltage-based SoC at rest"
)
CAN_BUS_FAILURE = define_error(
    "CAN_BUS_FAILURE", Severity.ERROR, Source.CAN, "CAN bus not working (bus-off or interface failure)"
)
CAN_DECODE_FAILURE = define_error(
    "CAN_DECODE_FAILURE", Severity.WARNING, Source.CAN, "CAN frames from the BMS fail to decode"
)
BMS_SLEEP_OUTPUT_FAILURE = define_error(
    "BMS_SLEEP_OUTPUT_FAILURE",
    Severity.WARNING,
    Source.MODBUS,
    "BMS sleep output (relay / IO module) not answering",
)
SMBUS_FAILURE = define_error(
    "BMS_SMBUS_FAILURE", Severity.ERROR, Source.BMS, "Smart battery not answering on SMBus"
)
