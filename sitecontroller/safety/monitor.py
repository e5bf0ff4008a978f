"""Monitor: the safety checks of every fast-loop tick.

It reads one snapshot and raises or clears errors; the ErrorHandler decides what is Critical,
and a Critical error makes the fast loop command 0 W in the same tick.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitecontroller.config.limits import Limits
from sitecontroller.config.node import Monitor as MonitorConfig
from sitecontroller.core.datastore import Snapshot
from sitecontroller.core.readings import (
    BmsReading,
    InputsReading,
    InverterReading,
    InverterState,
    SensorReading,
)
from sitecontroller.safety import catalogue as cat
from sitecontroller.safety.errors import ErrorHandler

SOURCE_BMS = "bms"
SOURCE_INVERTER = "inverter"
SOURCE_GRID_METER = "meter.grid"
SOURCE_INPUTS = "inputs"
SOURCE_SENSORS = "sensors"

# Below this current the battery counts as doing nothing (measurement noise of a BMS shunt).
ACTIVE_CURRENT_A = 0.5
ACTIVE_POWER_W = 200.0


@dataclass(frozen=True, slots=True)
class Expected:
    """Which sources this node must hear from (a node without a grid meter does not expect one)."""

    grid_meter: bool = False
    inputs: bool = False


class Monitor:
    def __init__(
        self,
        config: MonitorConfig,
        limits: Limits,
        errors: ErrorHandler,
        expected: Expected,
        started_s: float,
        startup_grace_s: float,
    ) -> None:
        """A source that has never reported counts as stale only after `startup_grace_s`: at start-up
        the state machine's Init timeout covers devices that do not answer (and Init allows no power)."""
        self._started_s = started_s
        self._grace_s = startup_grace_s
        self._config = config
        self._limits = limits
        self._errors = errors
        self._expected = expected
        self._inactive_since_s: float | None = None

    def check(self, snap: Snapshot, commanded_w: float) -> None:
        errors = self._errors
        bms = snap.fresh(SOURCE_BMS)
        errors.set(cat.BMS_STALE, self._stale(snap, SOURCE_BMS), _age(snap, SOURCE_BMS))
        if isinstance(bms, BmsReading):
            self._check_cells(bms)
            self._check_inactive(bms, commanded_w, snap.at_s)
        inverter = snap.fresh(SOURCE_INVERTER)
        errors.set(cat.INVERTER_STALE, self._stale(snap, SOURCE_INVERTER), _age(snap, SOURCE_INVERTER))
        if isinstance(inverter, InverterReading):
            errors.set(
                cat.INVERTER_FAULT,
                inverter.state is InverterState.FAULT,
                f"fault code {inverter.fault_code}",
            )
        if self._expected.grid_meter:
            errors.set(cat.METER_STALE, self._stale(snap, SOURCE_GRID_METER), _age(snap, SOURCE_GRID_METER))
        inputs = snap.fresh(SOURCE_INPUTS)
        if self._expected.inputs:
            errors.set(cat.INPUTS_STALE, self._stale(snap, SOURCE_INPUTS))
        errors.set(cat.ESTOP, isinstance(inputs, InputsReading) and inputs.estop_active)
        sensors = snap.fresh(SOURCE_SENSORS)
        if isinstance(sensors, SensorReading):
            self._check_sensors(sensors)

    def _stale(self, snap: Snapshot, source: str) -> bool:
        if snap.fresh(source) is not None:
            return False
        never_reported = snap.age_s(source) is None
        return not never_reported or snap.at_s - self._started_s >= self._grace_s

    def _check_cells(self, bms: BmsReading) -> None:
        lim, errors = self._limits, self._errors
        vmin, vmax = bms.cell_voltage_min_v, bms.cell_voltage_max_v
        tmin, tmax = bms.cell_temp_min_c, bms.cell_temp_max_c
        errors.set(
            cat.CELL_UNDER_VOLTAGE,
            vmin is not None and vmin < lim.cell_voltage_critical_low_v,
            f"{vmin} V < {lim.cell_voltage_critical_low_v} V",
        )
        errors.set(
            cat.CELL_OVER_VOLTAGE,
            vmax is not None and vmax > lim.cell_voltage_critical_high_v,
            f"{vmax} V > {lim.cell_voltage_critical_high_v} V",
        )
        errors.set(
            cat.OVER_TEMPERATURE,
            tmax is not None and tmax > lim.temp_critical_high_c,
            f"{tmax} °C > {lim.temp_critical_high_c} °C",
        )
        errors.set(
            cat.UNDER_TEMPERATURE,
            tmin is not None and tmin < lim.temp_critical_low_c,
            f"{tmin} °C < {lim.temp_critical_low_c} °C",
        )
        spread_v = None if vmin is None or vmax is None else vmax - vmin
        errors.set(
            cat.CELL_IMBALANCE,
            spread_v is not None and spread_v > self._config.cell_imbalance_warning_v,
            f"spread {spread_v} V",
        )

    def _check_inactive(self, bms: BmsReading, commanded_w: float, now_s: float) -> None:
        inactive = abs(commanded_w) > ACTIVE_POWER_W and abs(bms.current_a) < ACTIVE_CURRENT_A
        if not inactive:
            self._inactive_since_s = None
        elif self._inactive_since_s is None:
            self._inactive_since_s = now_s
        timed_out = (
            self._inactive_since_s is not None
            and now_s - self._inactive_since_s >= self._config.inactive_bms_timeout_s
        )
        self._errors.set(cat.BMS_INACTIVE, timed_out)

    def _check_sensors(self, sensors: SensorReading) -> None:
        pi_temp_c = sensors.values.get("pi_temp_c")
        humidity_pct = sensors.values.get("humidity_pct")
        cfg = self._config
        self._errors.set(cat.PI_TEMP_HIGH, pi_temp_c is not None and pi_temp_c > cfg.pi_temp_warning_c)
        self._errors.set(cat.PI_TEMP_CRITICAL, pi_temp_c is not None and pi_temp_c > cfg.pi_temp_critical_c)
        self._errors.set(
            cat.HUMIDITY_HIGH, humidity_pct is not None and humidity_pct > cfg.humidity_warning_pct
        )


def _age(snap: Snapshot, source: str) -> str:
    age_s = snap.age_s(source)
    return "never received" if age_s is None else f"last reading {age_s:.1f} s old"
