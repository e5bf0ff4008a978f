"""The software limit sources of the ChargeLimiter: rating, SoC, cell voltage, temperature, current.

Each is a pure function of a BMS reading and the limits section, giving the power it allows in
each direction. The BMS's own (hardware) limits come from the BMS package; grid-code limits from
control. Missing data gives no power in the direction it would protect.
"""

from __future__ import annotations

import itertools

from sitecontroller.config.limits import DeratePoint, Limits
from sitecontroller.core.readings import BmsReading
from sitecontroller.safety.limiter import PowerLimit


def rated(limits: Limits) -> PowerLimit:
    return PowerLimit("rating", limits.max_charge_power_w, limits.max_discharge_power_w)


def soc(bms: BmsReading, limits: Limits) -> PowerLimit:
    taper = limits.soc_taper_pct
    charge = _ramp_down(bms.soc_pct, limits.soc_max_pct - taper, limits.soc_max_pct)
    discharge = _ramp_up(bms.soc_pct, limits.soc_min_pct, limits.soc_min_pct + taper)
    return PowerLimit("soc", charge * limits.max_charge_power_w, discharge * limits.max_discharge_power_w)


def cell_voltage(bms: BmsReading, limits: Limits) -> PowerLimit:
    taper = limits.cell_voltage_taper_v
    vmax, vmin = bms.cell_voltage_max_v, bms.cell_voltage_min_v
    charge = (
        0.0
        if vmax is None
        else _ramp_down(vmax, limits.cell_voltage_max_v - taper, limits.cell_voltage_max_v)
    )
    discharge = (
        0.0 if vmin is None else _ramp_up(vmin, limits.cell_voltage_min_v, limits.cell_voltage_min_v + taper)
    )
    return PowerLimit(
        "cell_voltage", charge * limits.max_charge_power_w, discharge * limits.max_discharge_power_w
    )


def temperature(bms: BmsReading, limits: Limits) -> PowerLimit:
    tmin, tmax = bms.cell_temp_min_c, bms.cell_temp_max_c
    if tmin is None or tmax is None:
        return PowerLimit("temperature", 0.0, 0.0)
    fraction = min(derate(tmin, limits.temp_derating), derate(tmax, limits.temp_derating))
    charge = 0.0 if tmin < limits.temp_min_charge_c else fraction
    return PowerLimit(
        "temperature", charge * limits.max_charge_power_w, fraction * limits.max_discharge_power_w
    )


def current(bms: BmsReading, limits: Limits) -> PowerLimit:
    power_w = limits.max_current_a * max(bms.voltage_v, 0.0)
    return PowerLimit("current", power_w, power_w)


def software_limits(bms: BmsReading, limits: Limits) -> list[PowerLimit]:
    return [
        rated(limits),
        soc(bms, limits),
        cell_voltage(bms, limits),
        temperature(bms, limits),
        current(bms, limits),
    ]


def derate(x: float, curve: tuple[DeratePoint, ...]) -> float:
    """Piecewise-linear fraction at x; flat beyond the first and last points."""
    if not curve:
        return 1.0
    if x <= curve[0].x:
        return curve[0].fraction
    for low, high in itertools.pairwise(curve):
        if x <= high.x:
            return low.fraction + (high.fraction - low.fraction) * (x - low.x) / (high.x - low.x)
    return curve[-1].fraction


def _ramp_down(x: float, start: float, end: float) -> float:
    """1 below start, 0 at or above end, linear between."""
    if x >= end:
        return 0.0
    if x <= start or end <= start:
        return 1.0
    return (end - x) / (end - start)


def _ramp_up(x: float, start: float, end: float) -> float:
    """0 at or below start, 1 above end, linear between."""
    if x <= start:
        return 0.0
    if x >= end or end <= start:
        return 1.0
    return (x - start) / (end - start)
