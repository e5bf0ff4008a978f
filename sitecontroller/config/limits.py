"""Battery and power limits every setpoint must respect (software limits; the BMS adds its own)."""

from __future__ import annotations

from pydantic import Field, model_validator

from sitecontroller.config.base import StrictModel


class DeratePoint(StrictModel):
    """One corner of a derating curve: at `x` (temperature in °C) the power may be `fraction` of rated."""

    x: float
    fraction: float = Field(ge=0.0, le=1.0)


class Limits(StrictModel):
    max_charge_power_w: float = Field(default=10_000.0, ge=0.0, le=10_000_000.0)
    max_discharge_power_w: float = Field(default=10_000.0, ge=0.0, le=10_000_000.0)
    ramp_w_per_s: float = Field(default=50_000.0, gt=0.0, le=100_000_000.0)
    soc_min_pct: float = Field(default=5.0, ge=0.0, le=50.0)
    soc_max_pct: float = Field(default=100.0, ge=50.0, le=100.0)
    # Power tapers linearly to zero over this SoC band next to each SoC limit.
    soc_taper_pct: float = Field(default=3.0, ge=0.0, le=20.0)
    cell_voltage_min_v: float = Field(default=3.0, ge=1.5, le=4.5)
    cell_voltage_max_v: float = Field(default=3.55, ge=1.5, le=4.5)
    # Beyond these the node trips (Critical): the hard limits of the cell chemistry.
    cell_voltage_critical_low_v: float = Field(default=2.8, ge=1.0, le=4.5)
    cell_voltage_critical_high_v: float = Field(default=3.65, ge=1.5, le=5.0)
    # Power tapers to zero over this band inside the cell voltage window.
    cell_voltage_taper_v: float = Field(default=0.05, ge=0.0, le=0.5)
    max_current_a: float = Field(default=200.0, gt=0.0, le=10_000.0)
    temp_critical_high_c: float = Field(default=60.0, ge=20.0, le=90.0)
    temp_critical_low_c: float = Field(default=-20.0, ge=-50.0, le=10.0)
    temp_min_charge_c: float = Field(default=0.0, ge=-30.0, le=20.0)
    temp_derating: tuple[DeratePoint, ...] = (
        DeratePoint(x=-10.0, fraction=0.0),
        DeratePoint(x=5.0, fraction=0.5),
        DeratePoint(x=15.0, fraction=1.0),
        DeratePoint(x=45.0, fraction=1.0),
        DeratePoint(x=55.0, fraction=0.0),
    )

    @model_validator(mode="after")
    def _ordered(self) -> Limits:
        if self.soc_min_pct >= self.soc_max_pct:
            raise ValueError("soc_min_pct must be below soc_max_pct")
        if not (
            self.cell_voltage_critical_low_v
            < self.cell_voltage_min_v
            < self.cell_voltage_max_v
            < self.cell_voltage_critical_high_v
        ):
            raise ValueError("cell voltages must be ordered: critical_low < min < max < critical_high")
        if self.temp_critical_low_c >= self.temp_critical_high_c:
            raise ValueError("temp_critical_low_c must be below temp_critical_high_c")
        xs = [p.x for p in self.temp_derating]
        if xs != sorted(xs) or len(set(xs)) != len(xs):
            raise ValueError("temp_derating points must have strictly increasing x")
        return self
