"""Charge only: charge to a SoC target at a set rate inside the allowed windows, never discharge,
and never let the site import more than the configured limit."""

from __future__ import annotations

from dataclasses import dataclass

from masterController.control.schedule import active_entry
from masterController.control.snapshot import ModeDecision, SiteSnapshot, baseline_limits
from sitecontroller.config.control import ChargeOnlyConfig, ModeName, SiteLimitsConfig


@dataclass(frozen=True, slots=True)
class ChargeOnlyState:
    # Hysteresis: once the target is reached, charging resumes only below target - hysteresis.
    target_reached: bool = False


class ChargeOnly:
    name = ModeName.CHARGE_ONLY

    def __init__(self, params: ChargeOnlyConfig, site: SiteLimitsConfig, utc_offset_s: float) -> None:
        self._params = params
        self._site = site
        self._utc_offset_s = utc_offset_s

    def start(self, snapshot: SiteSnapshot) -> ChargeOnlyState:
        return ChargeOnlyState()

    def decide(self, snapshot: SiteSnapshot, state: ChargeOnlyState) -> tuple[ModeDecision, ChargeOnlyState]:
        p = self._params
        soc_pct = snapshot.soc_pct
        limits = baseline_limits(snapshot, self._site.soc_min_pct, self._site.soc_max_pct)
        # Never above the site's ceiling (or the grid-service reserve's), whatever the target says.
        target_pct = min(p.target_soc_pct, limits.soc_max_pct)
        reached = soc_pct >= target_pct or (state.target_reached and soc_pct > target_pct - p.hysteresis_pct)
        state = ChargeOnlyState(reached)
        if reached:
            return ModeDecision(0.0, f"charge only: SoC {soc_pct:.1f} % at target {target_pct:.0f} %"), state
        if p.windows and active_entry(p.windows, snapshot.wall_s, self._utc_offset_s) is None:
            return ModeDecision(0.0, "charge only: outside charging windows"), state
        if not snapshot.meter_valid:
            return ModeDecision(0.0, "charge only: site meter invalid, import limit unknown, 0 W"), state
        room_w = p.grid_import_limit_w - snapshot.grid_without_battery_w
        charge_w = max(0.0, min(p.charge_power_w, room_w, limits.max_charge_w))
        why = f"charge only: charging {charge_w:.0f} W to {target_pct:.0f} %"
        if charge_w < p.charge_power_w:
            why += f" (limited: import room {room_w:.0f} W, charge limit {limits.max_charge_w:.0f} W)"
        return ModeDecision(-charge_w, why), state
