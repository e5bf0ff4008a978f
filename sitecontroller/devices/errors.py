"""Error kinds raised by device drivers (stale data, faults and e-stop are the spine's Monitor's)."""

from __future__ import annotations

from sitecontroller.safety.errors import Severity, Source, define_error

INVERTER_OVER_CURRENT = define_error(
    "SC-INV-OVERCURRENT", Severity.CRITICAL, Source.INVERTER, "inverter reports over-current"
)
INVERTER_ISLANDING = define_error(
    "SC-INV-ISLANDING", Severity.ERROR, Source.INVERTER, "inverter detected islanding (anti-islanding trip)"
)
INVERTER_COMMAND_FAILED = define_error(
    "SC-INV-CMD", Severity.ERROR, Source.INVERTER, "inverter refused or did not confirm a command"
)
CLIMATE_OVER_TEMP = define_error("SC-CLIMATE-OT", Severity.ERROR, Source.CLIMATE, "cabinet zone too hot")
CLIMATE_UNDER_TEMP = define_error("SC-CLIMATE-UT", Severity.WARNING, Source.CLIMATE, "cabinet zone too cold")
CLIMATE_SENSOR_LOST = define_error(
    "SC-CLIMATE-SENSOR", Severity.WARNING, Source.CLIMATE, "climate zone has no fresh temperature"
)
SENSOR_READ_FAILED = define_error(
    "SC-SENSOR-READ", Severity.WARNING, Source.SENSOR, "a sensor cannot be read"
)

# flags a map may declare that raise an error while set
FLAG_ERRORS = {"over_current": INVERTER_OVER_CURRENT, "islanding": INVERTER_ISLANDING}
