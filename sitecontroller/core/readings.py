"""Typed readings that device drivers put into the DataStore.

Sign convention (one for the whole code base): battery and inverter power positive = discharge,
grid power at the meter positive = import. Drivers convert at the edge; nothing past them flips signs.
Fields a device does not report are None, never a made-up number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class RackReading:
    rack_id: int
    online: bool
    voltage_v: float
    current_a: float
    soc_pct: float
    soh_pct: float | None = None
    cell_voltage_min_v: float | None = None
    cell_voltage_max_v: float | None = None
    cell_temp_min_c: float | None = None
    cell_temp_max_c: float | None = None
    charge_current_limit_a: float | None = None
    discharge_current_limit_a: float | None = None
    alarms: frozenset[str] = frozenset()
    protections: frozenset[str] = frozenset()
    balancing: bool = False


@dataclass(frozen=True, slots=True)
class BmsReading:
    soc_pct: float
    voltage_v: float
    current_a: float
    soh_pct: float | None = None
    cell_voltage_min_v: float | None = None
    cell_voltage_max_v: float | None = None
    cell_voltage_avg_v: float | None = None
    cell_temp_min_c: float | None = None
    cell_temp_max_c: float | None = None
    charge_current_limit_a: float | None = None
    discharge_current_limit_a: float | None = None
    racks_online: int = 1
    racks_total: int = 1
    alarms: frozenset[str] = frozenset()
    protections: frozenset[str] = frozenset()
    racks: tuple[RackReading, ...] = ()

    @property
    def power_w(self) -> float:
        return self.voltage_v * self.current_a


class InverterState(StrEnum):
    OFF = "off"
    STANDBY = "standby"
    READY = "ready"
    RUNNING = "running"
    GRID_FORMING = "grid_forming"
    FAULT = "fault"


@dataclass(frozen=True, slots=True)
class InverterReading:
    state: InverterState
    power_w: float
    reactive_power_var: float = 0.0
    freq_hz: float | None = None
    voltage_v: float | None = None
    dc_voltage_v: float | None = None
    temp_c: float | None = None
    fault_code: int | None = None
    phase_voltage_v: tuple[float, ...] = ()
    phase_current_a: tuple[float, ...] = ()
    phase_power_w: tuple[float, ...] = ()
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MeterReading:
    power_w: float
    reactive_power_var: float | None = None
    freq_hz: float | None = None
    voltage_v: float | None = None
    import_energy_wh: float | None = None
    export_energy_wh: float | None = None
    phase_voltage_v: tuple[float, ...] = ()
    phase_current_a: tuple[float, ...] = ()
    phase_power_w: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class ClimateReading:
    zone_temps_c: dict[str, float] = field(default_factory=dict)
    fan_speed_pct: dict[str, float] = field(default_factory=dict)
    heaters_on: dict[str, bool] = field(default_factory=dict)
    humidity_pct: float | None = None


@dataclass(frozen=True, slots=True)
class SensorReading:
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InputsReading:
    """Digital inputs. `estop_active` is True when the stop chain is open (fail-safe wiring)."""

    estop_active: bool = False
    buttons: dict[str, bool] = field(default_factory=dict)
