"""Parameters of the simulated plant (only read by `sitecontroller simulate` and the scenario runner)."""

from __future__ import annotations

from pydantic import Field

from sitecontroller.config.base import StrictModel


class SimBattery(StrictModel):
    racks: int = Field(default=1, ge=1, le=32)
    cells_in_series: int = Field(default=16, ge=1, le=400)
    capacity_wh: float = Field(default=10_000.0, gt=0.0, le=100_000_000.0)
    initial_soc_pct: float = Field(default=60.0, ge=0.0, le=100.0)
    internal_resistance_ohm: float = Field(default=0.02, ge=0.0, le=10.0)
    ambient_temp_c: float = Field(default=20.0, ge=-40.0, le=60.0)
    thermal_capacity_j_per_k: float = Field(default=60_000.0, gt=0.0)
    thermal_resistance_k_per_w: float = Field(default=0.1, gt=0.0)


class SimInverter(StrictModel):
    max_power_w: float = Field(default=10_000.0, gt=0.0)
    time_constant_s: float = Field(default=0.15, ge=0.0, le=10.0)
    dead_time_s: float = Field(default=0.05, ge=0.0, le=5.0)
    efficiency: float = Field(default=0.97, gt=0.5, le=1.0)


class SimSite(StrictModel):
    pv_peak_w: float = Field(default=6_000.0, ge=0.0)
    load_base_w: float = Field(default=400.0, ge=0.0)
    load_peak_w: float = Field(default=3_000.0, ge=0.0)
    nominal_freq_hz: float = Field(default=50.0, ge=45.0, le=65.0)
    # Seconds of simulated time per second of wall time in `simulate` (1 = real time).
    time_of_day_start_s: float = Field(default=43_200.0, ge=0.0, lt=86_400.0)


class Simulation(StrictModel):
    battery: SimBattery = SimBattery()
    inverter: SimInverter = SimInverter()
    site: SimSite = SimSite()
