"""What a mode controller sees each slow cycle, and what it decides."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    """One frozen view of the site. Powers in W: meter positive = import, battery positive = discharge.

    `service_power_w` is the part of `battery_power_w` that the nodes' fast loops deliver for grid
    services (FCR, FFR, LFSM). Modes control the *baseline* and must not fight that response, so they
    see the meter as if the service power were not flowing (`baseline_grid_w`).
    `reserve_*` is the headroom the contracted services need; modes never use it.
    """

    now_s: float
    wall_s: float
    grid_power_w: float
    battery_power_w: float
    soc_pct: float
    max_discharge_w: float
    max_charge_w: float
    pv_power_w: float = 0.0
    load_power_w: float = 0.0
    grid_freq_hz: float = 50.0
    grid_voltage_v: float = 230.0
    # Frequency on the island side of the grid contactor (inverter), needed to resynchronise.
    island_freq_hz: float | None = None
    meter_valid: bool = True
    service_power_w: float = 0.0
    reserve_discharge_w: float = 0.0
    reserve_charge_w: float = 0.0
    reserve_soc_low_pct: float = 0.0
    reserve_soc_high_pct: float = 100.0

    @property
    def baseline_grid_w(self) -> float:
        return self.grid_power_w + self.service_power_w

    @property
    def baseline_battery_w(self) -> float:
        return self.battery_power_w - self.service_power_w

    @property
    def grid_without_battery_w(self) -> float:
        """What the meter would read with the batteries at 0 W (the site's net load)."""
        return self.grid_power_w + self.battery_power_w


@dataclass(frozen=True, slots=True)
class ModeDecision:
    """A site setpoint with the reason, plus the switching outputs only the backup mode uses."""

    power_w: float
    reason: str
    reactive_power_var: float = 0.0
    grid_forming: bool = False
    open_grid_contactor: bool = False
    shed_relays: tuple[str, ...] = ()
    nodes_may_sleep: bool = False


@dataclass(frozen=True, slots=True)
class BaselineLimits:
    """Power and SoC window left for the baseline after the grid-service reserve."""

    max_discharge_w: float
    max_charge_w: float
    soc_min_pct: float
    soc_max_pct: float

    def clip(self, power_w: float, soc_pct: float) -> tuple[float, str]:
        """Clip a baseline setpoint; the returned note says why it was changed ('' if it was not)."""
        if power_w > 0 and soc_pct <= self.soc_min_pct:
            return 0.0, f"; no discharge: SoC {soc_pct:.1f} % at floor {self.soc_min_pct:.1f} %"
        if power_w < 0 and soc_pct >= self.soc_max_pct:
            return 0.0, f"; no charge: SoC {soc_pct:.1f} % at ceiling {self.soc_max_pct:.1f} %"
        if power_w > self.max_discharge_w:
            return self.max_discharge_w, f"; clipped to discharge limit {self.max_discharge_w:.0f} W"
        if power_w < -self.max_charge_w:
            return -self.max_charge_w, f"; clipped to charge limit {self.max_charge_w:.0f} W"
        return power_w, ""


def baseline_limits(snapshot: SiteSnapshot, soc_min_pct: float, soc_max_pct: float) -> BaselineLimits:
    """Cluster limits minus the grid-service reserve, SoC window narrowed by the reserve energy."""
    return BaselineLimits(
        max_discharge_w=max(0.0, snapshot.max_discharge_w - snapshot.reserve_discharge_w),
        max_charge_w=max(0.0, snapshot.max_charge_w - snapshot.reserve_charge_w),
        soc_min_pct=max(soc_min_pct, snapshot.reserve_soc_low_pct),
        soc_max_pct=min(soc_max_pct, snapshot.reserve_soc_high_pct),
    )
