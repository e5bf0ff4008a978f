"""Peak shaving: keep grid import/export inside limits, recharge while import is low.

Follows the OpenEMS scheme (grid without battery decides the region, a PID tracks the limit), run on
the baseline only so the grid-service reserve is never used for shaving.
"""

from __future__ import annotations

from masterController.control.modes.grid_loop import GridLoopState, held_at, meter_invalid, start_grid_loop
from masterController.control.pid import pid_step
from masterController.control.snapshot import BaselineLimits, ModeDecision, SiteSnapshot, baseline_limits
from sitecontroller.config.control import ModeName, PeakShavingConfig, SiteLimitsConfig


class PeakShaving:
    name = ModeName.PEAK_SHAVING

    def __init__(self, params: PeakShavingConfig, site: SiteLimitsConfig) -> None:
        self._params = params
        self._site = site

    def start(self, snapshot: SiteSnapshot) -> GridLoopState:
        return start_grid_loop(snapshot)

    def decide(self, snapshot: SiteSnapshot, state: GridLoopState) -> tuple[ModeDecision, GridLoopState]:
        p = self._params
        if not snapshot.meter_valid:
            return meter_invalid("peak shaving", snapshot)
        limits = baseline_limits(snapshot, self._site.soc_min_pct, self._site.soc_max_pct)
        net_w = snapshot.grid_without_battery_w
        if net_w > p.import_limit_w:
            target_w, out_min, out_max = p.import_limit_w, 0.0, limits.max_discharge_w
            if snapshot.soc_pct <= limits.soc_min_pct:
                out_max = 0.0
            why = f"import {net_w:.0f} W above limit {p.import_limit_w:.0f} W"
        elif net_w < -p.export_limit_w:
            target_w, out_min, out_max = -p.export_limit_w, -limits.max_charge_w, 0.0
            if snapshot.soc_pct >= limits.soc_max_pct:
                out_min = 0.0
            why = f"export {-net_w:.0f} W above limit {p.export_limit_w:.0f} W"
        else:
            power_w, why = self._recharge(net_w, snapshot.soc_pct, limits)
            return ModeDecision(power_w, f"peak shaving: {why}"), held_at(power_w, snapshot)
        power_w, pid = pid_step(
            p.pid,
            state.pid,
            setpoint=target_w,
            measurement=snapshot.baseline_grid_w,
            now_s=snapshot.now_s,
            out_min=out_min,
            out_max=out_max,
            direction=-1.0,
        )
        return ModeDecision(power_w, f"peak shaving: {why}"), GridLoopState(pid)

    def _recharge(self, net_w: float, soc_pct: float, limits: BaselineLimits) -> tuple[float, str]:
        p = self._params
        # The grid-service reserve may lower the ceiling below the recharge target.
        target_pct = min(p.recharge_soc_target_pct, limits.soc_max_pct)
        if not p.recharge_enabled or soc_pct >= target_pct:
            return 0.0, "within limits, idle"
        room_w = p.recharge_below_w - net_w
        if room_w <= 0:
            return 0.0, f"within limits, import {net_w:.0f} W too high to recharge"
        charge_w = min(p.recharge_power_w, room_w, limits.max_charge_w)
        return -charge_w, f"within limits, recharging {charge_w:.0f} W towards {target_pct:.0f} %"
