"""Max self-consumption: PID on the grid meter towards a (default zero) grid setpoint."""

from __future__ import annotations

from masterController.control.modes.grid_loop import GridLoopState, meter_invalid, start_grid_loop
from masterController.control.pid import pid_step
from masterController.control.snapshot import ModeDecision, SiteSnapshot, baseline_limits
from sitecontroller.config.control import ModeName, SelfConsumptionConfig, SiteLimitsConfig


class SelfConsumption:
    name = ModeName.SELF_CONSUMPTION

    def __init__(self, params: SelfConsumptionConfig, site: SiteLimitsConfig) -> None:
        self._params = params
        self._site = site

    def start(self, snapshot: SiteSnapshot) -> GridLoopState:
        return start_grid_loop(snapshot)

    def decide(self, snapshot: SiteSnapshot, state: GridLoopState) -> tuple[ModeDecision, GridLoopState]:
        if not snapshot.meter_valid:
            return meter_invalid("self-consumption", snapshot)
        # The backup reserve raises the discharge floor: below it the battery only charges.
        floor_pct = max(self._site.soc_min_pct, self._params.backup_reserve_soc_pct)
        limits = baseline_limits(snapshot, floor_pct, self._site.soc_max_pct)
        out_max = limits.max_discharge_w if snapshot.soc_pct > limits.soc_min_pct else 0.0
        out_min = -limits.max_charge_w if snapshot.soc_pct < limits.soc_max_pct else 0.0
        target_w = self._params.grid_setpoint_w
        power_w, pid = pid_step(
            self._params.pid,
            state.pid,
            setpoint=target_w,
            measurement=snapshot.baseline_grid_w,
            now_s=snapshot.now_s,
            out_min=out_min,
            out_max=out_max,
            direction=-1.0,
        )
        reason = f"self-consumption: grid {snapshot.baseline_grid_w:.0f} W, target {target_w:.0f} W"
        if out_max == 0.0 and snapshot.soc_pct <= limits.soc_min_pct:
            reason += f"; SoC {snapshot.soc_pct:.1f} % at reserve {limits.soc_min_pct:.1f} %, charge only"
        elif out_min == 0.0 and snapshot.soc_pct >= limits.soc_max_pct:
            reason += f"; SoC {snapshot.soc_pct:.1f} % at ceiling, discharge only"
        decision = ModeDecision(power_w, reason, nodes_may_sleep=abs(power_w) < self._params.sleep_below_w)
        return decision, GridLoopState(pid)
