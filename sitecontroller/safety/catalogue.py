"""The spine's own error kinds (drivers and subsystems define theirs next to their code)."""

from __future__ import annotations

from sitecontroller.safety.errors import Severity, Source, define_error

C, E, W = Severity.CRITICAL, Severity.ERROR, Severity.WARNING

BMS_STALE = define_error("SC-BMS-STALE", C, Source.BMS, "BMS data missing or stale")
INVERTER_STALE = define_error("SC-INV-STALE", C, Source.INVERTER, "inverter not answering")
METER_STALE = define_error("SC-METER-STALE", W, Source.METER, "grid meter not answering")
INPUTS_STALE = define_error("SC-IO-STALE", C, Source.BUTTON, "digital inputs (e-stop chain) not readable")
CELL_UNDER_VOLTAGE = define_error("SC-CELL-UV", C, Source.BMS, "cell voltage below the critical limit")
CELL_OVER_VOLTAGE = define_error("SC-CELL-OV", C, Source.BMS, "cell voltage above the critical limit")
OVER_TEMPERATURE = define_error("SC-CELL-OT", C, Source.BMS, "cell temperature above the critical limit")
UNDER_TEMPERATURE = define_error("SC-CELL-UT", C, Source.BMS, "cell temperature below the critical limit")
CELL_IMBALANCE = define_error("SC-CELL-IMB", W, Source.BMS, "cell voltage spread above the warning limit")
BMS_INACTIVE = define_error(
    "SC-BMS-INACTIVE", E, Source.BMS, "BMS reports no current while power is commanded", ("Run",)
)
ESTOP = define_error("SC-ESTOP", C, Source.BUTTON, "emergency stop pressed")
PI_TEMP_HIGH = define_error("SC-PI-TEMP", W, Source.RASPBERRY_PI, "Raspberry Pi temperature high")
PI_TEMP_CRITICAL = define_error("SC-PI-TEMP-CRIT", C, Source.RASPBERRY_PI, "Raspberry Pi overheating")
HUMIDITY_HIGH = define_error("SC-HUMIDITY", W, Source.SENSOR, "cabinet humidity high")
INVERTER_FAULT = define_error("SC-INV-FAULT", C, Source.INVERTER, "inverter reports a fault")
INIT_TIMEOUT = define_error("SC-INIT-TIMEOUT", E, Source.COMMUNICATION, "devices did not answer at start-up")
