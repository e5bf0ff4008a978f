"""Configuration of power control: PID gains, mode parameters, schedules, grid services, site limits.

Every section is valid with its defaults (`ControlConfig()` works), so a site only writes what differs.
Powers are site-level watts unless a name says otherwise; the master assigns node shares.
"""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise
from typing import Literal

from pydantic import Field, model_validator

from sitecontroller.config.base import StrictModel

DAY_S = 86_400.0


class ModeName(StrEnum):
    """The power-control modes the product knows (cloud, SCADA and local commands use these names)."""

    SELF_CONSUMPTION = "self_consumption"
    PEAK_SHAVING = "peak_shaving"
    EXTERNAL_CONTROL = "external_control"
    CHARGE_ONLY = "charge_only"
    BACKUP = "backup"
    LOCAL_CONTROL = "local_control"
    PASSIVE = "passive"
    LOAD_MATCHING = "load_matching"
    COST_SAVING = "cost_saving"


class PidGains(StrictModel):
    """Gains of one PID loop; output in watts, error in watts, so kp is dimensionless."""

    # Defaults: integral-dominant. With the 1 s cycle and an inverter that settles well within a cycle,
    # ki = 1/s is deadbeat (a meter step is cancelled in one cycle); a proportional kick would only
    # be taken back next cycle (undershoot).
    kp: float = Field(0.0, ge=0.0, le=10.0)
    ki_per_s: float = Field(1.0, ge=0.0, le=50.0)
    kd_s: float = Field(0.0, ge=0.0, le=10.0)
    # First-order filter on the derivative term: without it meter noise goes straight to the output.
    derivative_filter_s: float = Field(0.5, ge=0.0, le=60.0)


class ScheduleEntry(StrictModel):
    """One P/Q entry. `daily` entries repeat every day and `start_s` is seconds after local midnight;
    otherwise `start_s` is a Unix epoch time."""

    start_s: float = Field(ge=0.0)
    duration_s: float = Field(gt=0.0, le=366 * DAY_S)
    power_w: float = Field(ge=-10_000_000.0, le=10_000_000.0)
    reactive_power_var: float = Field(0.0, ge=-10_000_000.0, le=10_000_000.0)
    daily: bool = False

    @model_validator(mode="after")
    def _daily_fits_a_day(self) -> ScheduleEntry:
        if self.daily and (self.start_s >= DAY_S or self.duration_s > DAY_S):
            raise ValueError("a daily entry starts within the day and lasts at most one day")
        return self


def _intervals(entry: ScheduleEntry) -> list[tuple[float, float]]:
    """A daily entry that wraps past midnight is two intervals within the day."""
    start_s, end_s = entry.start_s, entry.start_s + entry.duration_s
    if entry.daily and end_s > DAY_S:
        return [(start_s, DAY_S), (0.0, end_s - DAY_S)]
    return [(start_s, end_s)]


def schedule_overlap(entries: tuple[ScheduleEntry, ...]) -> str | None:
    """Describe the first overlap among entries of the same kind (daily vs dated), or None."""
    for daily in (True, False):
        spans = sorted(span for e in entries if e.daily == daily for span in _intervals(e))
        for (_, end_s), (next_start_s, _) in pairwise(spans):
            if next_start_s < end_s:
                kind = "daily" if daily else "dated"
                return f"{kind} schedule entries overlap at {next_start_s:.0f} s"
    return None


class PriceEntry(StrictModel):
    """Tariff from `start_s` (seconds after local midnight) until the next entry, per kWh."""

    start_s: float = Field(ge=0.0, lt=DAY_S)
    price_per_kwh: float = Field(ge=-10.0, le=100.0)


class SiteLimitsConfig(StrictModel):
    """The grid connection: the allocator never makes the site exceed these."""

    grid_import_limit_w: float = Field(100_000.0, gt=0.0)
    grid_export_limit_w: float = Field(100_000.0, ge=0.0)
    fuse_current_a: float = Field(250.0, gt=0.0)
    nominal_voltage_v: float = Field(230.0, gt=0.0, le=1000.0)
    phases: Literal[1, 3] = 3
    soc_min_pct: float = Field(5.0, ge=0.0, le=50.0)
    soc_max_pct: float = Field(95.0, ge=50.0, le=100.0)

    @property
    def fuse_limit_w(self) -> float:
        return self.fuse_current_a * self.nominal_voltage_v * self.phases


class SelfConsumptionConfig(StrictModel):
    grid_setpoint_w: float = Field(0.0, ge=-1_000_000.0, le=1_000_000.0)
    pid: PidGains = PidGains()
    backup_reserve_soc_pct: float = Field(20.0, ge=0.0, le=100.0)
    # Below this |setpoint| the controller lets idle nodes sleep (saves standby losses).
    sleep_below_w: float = Field(500.0, ge=0.0)


class PeakShavingConfig(StrictModel):
    import_limit_w: float = Field(50_000.0, gt=0.0)
    export_limit_w: float = Field(50_000.0, gt=0.0)
    pid: PidGains = PidGains()
    recharge_enabled: bool = True
    # Recharge only while the grid import (without the battery) is below this, at most recharge_power_w.
    recharge_below_w: float = Field(30_000.0, ge=0.0)
    recharge_power_w: float = Field(10_000.0, ge=0.0)
    recharge_soc_target_pct: float = Field(90.0, ge=0.0, le=100.0)

    @model_validator(mode="after")
    def _recharge_under_limit(self) -> PeakShavingConfig:
        if self.recharge_below_w > self.import_limit_w:
            raise ValueError("recharge_below_w must not exceed import_limit_w")
        return self


class ExternalControlConfig(StrictModel):
    local_schedule: tuple[ScheduleEntry, ...] = ()
    # A cloud schedule older than this counts as lost and the local schedule takes over.
    cloud_schedule_max_age_s: float = Field(86_400.0, gt=0.0)
    max_lease_ttl_s: float = Field(300.0, gt=0.0, le=86_400.0)

    @model_validator(mode="after")
    def _no_overlap(self) -> ExternalControlConfig:
        problem = schedule_overlap(self.local_schedule)
        if problem:
            raise ValueError(problem)
        return self


class ChargeOnlyConfig(StrictModel):
    target_soc_pct: float = Field(90.0, ge=0.0, le=100.0)
    hysteresis_pct: float = Field(2.0, ge=0.0, le=20.0)
    charge_power_w: float = Field(10_000.0, gt=0.0)
    grid_import_limit_w: float = Field(50_000.0, gt=0.0)
    # Empty: charging allowed at any time. Entries' power fields are ignored, only the windows count.
    windows: tuple[ScheduleEntry, ...] = ()


class GridLossConfig(StrictModel):
    """Grid-loss detection and reconnection (EN 50549-1 style windows; defaults typical, check the code)."""

    voltage_min_v: float = Field(195.5, gt=0.0)
    voltage_max_v: float = Field(264.5, gt=0.0)
    freq_min_hz: float = Field(47.5, ge=40.0, le=50.0)
    freq_max_hz: float = Field(51.5, ge=50.0, le=60.0)
    detect_delay_s: float = Field(0.2, ge=0.0, le=10.0)
    reconnect_voltage_min_v: float = Field(207.0, gt=0.0)
    reconnect_voltage_max_v: float = Field(253.0, gt=0.0)
    reconnect_freq_min_hz: float = Field(49.9, ge=40.0, le=50.0)
    reconnect_freq_max_hz: float = Field(50.1, ge=50.0, le=60.0)
    reconnect_delay_s: float = Field(60.0, ge=0.0, le=900.0)
    resync_max_freq_diff_hz: float = Field(0.1, gt=0.0, le=1.0)
    resync_timeout_s: float = Field(30.0, gt=0.0)
    reconnect_gradient_pct_per_min: float = Field(10.0, gt=0.0, le=100.0)

    @model_validator(mode="after")
    def _windows_ordered(self) -> GridLossConfig:
        nested = "windows must nest: trip min < reconnect min < reconnect max < trip max"
        v_min, v_max = self.reconnect_voltage_min_v, self.reconnect_voltage_max_v
        if not self.voltage_min_v < v_min < v_max < self.voltage_max_v:
            raise ValueError(f"voltage {nested}")
        if not self.freq_min_hz < self.reconnect_freq_min_hz < self.reconnect_freq_max_hz < self.freq_max_hz:
            raise ValueError(f"frequency {nested}")
        return self


class LoadSheddingStage(StrictModel):
    relay: str = Field(min_length=1, max_length=64)
    shed_below_soc_pct: float = Field(ge=0.0, le=100.0)
    restore_above_soc_pct: float = Field(ge=0.0, le=100.0)

    @model_validator(mode="after")
    def _hysteresis(self) -> LoadSheddingStage:
        if self.restore_above_soc_pct <= self.shed_below_soc_pct:
            raise ValueError("restore_above_soc_pct must be above shed_below_soc_pct")
        return self


class BackupConfig(StrictModel):
    enabled: bool = False
    standby_soc_pct: float = Field(95.0, ge=0.0, le=100.0)
    standby_charge_power_w: float = Field(5_000.0, ge=0.0)
    grid_loss: GridLossConfig = GridLossConfig()
    shed_stages: tuple[LoadSheddingStage, ...] = ()
    # The island stops (inverters off) below this; black start needs black_start_min_soc_pct.
    island_min_soc_pct: float = Field(5.0, ge=0.0, le=50.0)
    black_start_min_soc_pct: float = Field(15.0, ge=0.0, le=100.0)
    test_duration_s: float = Field(60.0, gt=0.0, le=3600.0)


class LocalControlConfig(StrictModel):
    heartbeat_timeout_s: float = Field(10.0, gt=0.0, le=3600.0)


class LoadMatchingConfig(StrictModel):
    match_fraction: float = Field(1.0, ge=0.0, le=1.0)


class CostSavingConfig(StrictModel):
    prices: tuple[PriceEntry, ...] = (
        PriceEntry(start_s=0.0, price_per_kwh=0.10),
        PriceEntry(start_s=7 * 3600.0, price_per_kwh=0.30),
        PriceEntry(start_s=22 * 3600.0, price_per_kwh=0.10),
    )
    charge_below_price: float = Field(0.15, ge=-10.0, le=100.0)
    discharge_above_price: float = Field(0.25, ge=-10.0, le=100.0)
    charge_power_w: float = Field(10_000.0, gt=0.0)
    pid: PidGains = PidGains()

    @model_validator(mode="after")
    def _prices(self) -> CostSavingConfig:
        if self.charge_below_price >= self.discharge_above_price:
            raise ValueError("charge_below_price must be below discharge_above_price")
        starts = [p.start_s for p in self.prices]
        if starts != sorted(set(starts)):
            raise ValueError("price entries must have strictly increasing start_s")
        return self


class FcrConfig(StrictModel):
    """One FCR product. capacity_w is the site's contracted capacity C; energy_wh the reservoir E for it."""

    enabled: bool = False
    capacity_w: float = Field(0.0, ge=0.0)
    energy_wh: float = Field(0.0, ge=0.0)
    # Provider's choice for FCR-N (0.34..0.50); FCR-D is fixed at 0.20 by the TR.
    nem_gain: float = Field(0.34, ge=0.0, le=0.5)
    energy_management: bool = True


class FfrConfig(StrictModel):
    enabled: bool = False
    capacity_w: float = Field(0.0, ge=0.0)
    activation_level_hz: Literal[49.7, 49.6, 49.5] = 49.7
    support_duration_s: Literal[30.0, 5.0] = 30.0
    # <= 20 %/s makes the 5 s support variant legal; 10 %/s keeps a margin.
    deactivation_rate_pct_per_s: float = Field(10.0, gt=0.0, le=100.0)
    rearm_s: float = Field(900.0, ge=0.0, le=900.0)


class LfsmConfig(StrictModel):
    """Grid-code droop: below f2 (LFSM-U) discharge more, saturating at f1; above f3 (LFSM-O) charge,
    saturating at f4. droop_pct is relative to the node's rated power."""

    over_enabled: bool = True
    under_enabled: bool = False
    f1_hz: float = Field(47.5, ge=45.0, le=50.0)
    f2_hz: float = Field(49.8, ge=49.0, le=50.0)
    f3_hz: float = Field(50.2, ge=50.0, le=51.0)
    f4_hz: float = Field(51.5, ge=50.0, le=55.0)
    droop_pct: float = Field(5.0, ge=2.0, le=12.0)

    @model_validator(mode="after")
    def _ordered(self) -> LfsmConfig:
        if not self.f1_hz < self.f2_hz < self.f3_hz < self.f4_hz:
            raise ValueError("LFSM thresholds must satisfy f1 < f2 < f3 < f4")
        return self


class OperationLogConfig(StrictModel):
    enabled: bool = False
    directory: str = "/var/log/sitecontroller/grid"
    resource: str = Field("BESS1", pattern=r"^[A-Za-z0-9-]+$")
    area: str = Field("SE3", pattern=r"^[A-Za-z0-9-]+$")
    interval_s: float = Field(1.0, gt=0.0, le=10.0)
    retention_days: int = Field(14, ge=14, le=365)


class GridServicesConfig(StrictModel):
    fcrn: FcrConfig = FcrConfig()
    fcrd_up: FcrConfig = FcrConfig(nem_gain=0.2)
    fcrd_down: FcrConfig = FcrConfig(nem_gain=0.2)
    ffr: FfrConfig = FfrConfig()
    lfsm: LfsmConfig = LfsmConfig()
    operation_log: OperationLogConfig = OperationLogConfig()


class ControlConfig(StrictModel):
    cycle_s: float = Field(1.0, gt=0.0, le=10.0)
    fast_loop_s: float = Field(0.1, gt=0.0, le=1.0)
    default_mode: ModeName = ModeName.SELF_CONSUMPTION
    # Local time = UTC + this, for daily schedules and tariffs.
    utc_offset_s: int = Field(0, ge=-14 * 3600, le=14 * 3600)
    site: SiteLimitsConfig = SiteLimitsConfig()
    self_consumption: SelfConsumptionConfig = SelfConsumptionConfig()
    peak_shaving: PeakShavingConfig = PeakShavingConfig()
    external_control: ExternalControlConfig = ExternalControlConfig()
    charge_only: ChargeOnlyConfig = ChargeOnlyConfig()
    backup: BackupConfig = BackupConfig()
    local_control: LocalControlConfig = LocalControlConfig()
    load_matching: LoadMatchingConfig = LoadMatchingConfig()
    cost_saving: CostSavingConfig = CostSavingConfig()
    grid_services: GridServicesConfig = GridServicesConfig()

    @model_validator(mode="after")
    def _default_mode_available(self) -> ControlConfig:
        if self.default_mode is ModeName.BACKUP and not self.backup.enabled:
            raise ValueError("default_mode backup needs backup.enabled")
        if self.default_mode is ModeName.LOCAL_CONTROL:
            raise ValueError("local_control is selected at the site, it cannot be the default mode")
        return self
