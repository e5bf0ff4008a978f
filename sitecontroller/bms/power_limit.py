"""The BMS as a ChargeLimiter source: current limits x pack voltage, derated, ramped on recovery.

- No fresh reading (None) or no known current limit: 0 W both ways (safe default).
- Near the cell voltage limits the allowed power falls linearly to 0 over `derate_window_v`; the
  upper limit is lowered at low temperature (lithium plating risk), by the compensation coefficient.
- Temperature derates each direction on a trapezoid (zero, full, full, zero).
- A protection bit zeroes the direction it protects (both for faults that are not directional).
- A reduction applies at once; a recovery climbs at `recovery_ramp_w_per_s`, so a BMS that flaps
  its limits does not make the inverter jump.
"""

from __future__ import annotations

from sitecontroller.config.bms import PowerLimitConfig
from sitecontroller.core.readings import BmsReading
from sitecontroller.safety.limiter import PowerLimit

SOURCE = "bms"
_CHARGE_ONLY = frozenset({"over_voltage", "charge_over_current"})
_DISCHARGE_ONLY = frozenset({"under_voltage", "discharge_over_current"})


def _trapezoid(temp_c: float, points: tuple[float, float, float, float]) -> float:
    zero_low, full_low, full_high, zero_high = points
    if temp_c <= zero_low or temp_c >= zero_high:
        return 0.0
    if temp_c < full_low:
        return (temp_c - zero_low) / (full_low - zero_low)
    if temp_c > full_high:
        return (zero_high - temp_c) / (zero_high - full_high)
    return 1.0


def _clamp01(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def target_limits(reading: BmsReading, p: PowerLimitConfig) -> tuple[float, float]:
    """(charge_w, discharge_w) before the recovery ramp."""
    if (
        reading.voltage_v <= 0
        or reading.charge_current_limit_a is None
        or reading.discharge_current_limit_a is None
    ):
        return 0.0, 0.0
    charge_w = reading.charge_current_limit_a * reading.voltage_v
    discharge_w = reading.discharge_current_limit_a * reading.voltage_v
    temps = [t for t in (reading.cell_temp_min_c, reading.cell_temp_max_c) if t is not None]
    if temps:
        charge_w *= min(_trapezoid(t, p.charge_temp_c) for t in temps)
        discharge_w *= min(_trapezoid(t, p.discharge_temp_c) for t in temps)
        cold_c = max(0.0, p.temp_compensation_ref_c - min(temps))
    else:
        cold_c = 0.0
    if reading.cell_voltage_max_v is not None:
        v_max = p.cell_voltage_max_v - p.temp_compensation_v_per_c * cold_c
        charge_w *= _clamp01((v_max - reading.cell_voltage_max_v) / p.derate_window_v)
    if reading.cell_voltage_min_v is not None:
        discharge_w *= _clamp01((reading.cell_voltage_min_v - p.cell_voltage_min_v) / p.derate_window_v)
    for flag in reading.protections:
        if flag not in _DISCHARGE_ONLY:
            charge_w = 0.0
        if flag not in _CHARGE_ONLY:
            discharge_w = 0.0
    return charge_w, discharge_w


class BmsPowerLimiter:
    def __init__(self, params: PowerLimitConfig) -> None:
        self._p = params
        self._charge_w = 0.0
        self._discharge_w = 0.0
        self._last_s: float | None = None

    def limit(self, reading: BmsReading | None, now_s: float) -> PowerLimit:
        dt_s = 0.0 if self._last_s is None else max(0.0, now_s - self._last_s)
        self._last_s = now_s
        charge_w, discharge_w = (0.0, 0.0) if reading is None else target_limits(reading, self._p)
        step_w = self._p.recovery_ramp_w_per_s * dt_s
        self._charge_w = min(charge_w, self._charge_w + step_w)
        self._discharge_w = min(discharge_w, self._discharge_w + step_w)
        return PowerLimit(SOURCE, self._charge_w, self._discharge_w)
