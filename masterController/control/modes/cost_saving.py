"""Cost saving: charge while the tariff is cheap, cover the site load while it is expensive."""

from __future__ import annotations

from bisect import bisect_right

from masterController.control.modes.grid_loop import GridLoopState, held_at, meter_invalid, start_grid_loop
from masterController.control.pid import pid_step
from masterController.control.schedule import local_time_of_day_s
from masterController.control.snapshot import ModeDecision, SiteSnapshot, baseline_limits
from sitecontroller.config.control import CostSavingConfig, ModeName, PriceEntry, SiteLimitsConfig


def price_at(prices: tuple[PriceEntry, ...], time_of_day_s: float) -> float:
    """Entries are sorted by start; before the first entry of the day the last one still applies."""
    index = bisect_right([p.start_s for p in prices], time_of_day_s) - 1
    return prices[index].price_per_kwh


class CostSaving:
    name = ModeName.COST_SAVING

    def __init__(self, params: CostSavingConfig, site: SiteLimitsConfig, utc_offset_s: float) -> None:
        if not params.prices:
            raise ValueError("cost saving needs at least one price entry")
        self._params = params
        self._site = site
        self._utc_offset_s = utc_offset_s

    def start(self, snapshot: SiteSnapshot) -> GridLoopState:
        return start_grid_loop(snapshot)

    def decide(self, snapshot: SiteSnapshot, state: GridLoopState) -> tuple[ModeDecision, GridLoopState]:
        p = self._params
        price = price_at(p.prices, local_time_of_day_s(snapshot.wall_s, self._utc_offset_s))
        limits = baseline_limits(snapshot, self._site.soc_min_pct, self._site.soc_max_pct)
        if price <= p.charge_below_price:
            power_w, note = limits.clip(-p.charge_power_w, snapshot.soc_pct)
            decision = ModeDecision(power_w, f"cost saving: price {price:.3f} low, charging{note}")
            return decision, held_at(power_w, snapshot)
        if not snapshot.meter_valid:
            return meter_invalid("cost saving", snapshot)
        # Otherwise a zero-grid loop: PV surplus is always stored (it is free); stored energy is spent
        # on the load only while the price is high, never exported and never bought to be stored.
        high = price >= p.discharge_above_price
        can_discharge = high and snapshot.soc_pct > limits.soc_min_pct
        out_max = limits.max_discharge_w if can_discharge else 0.0
        out_min = -limits.max_charge_w if snapshot.soc_pct < limits.soc_max_pct else 0.0
        power_w, pid = pid_step(
            p.pid,
            state.pid,
            setpoint=0.0,
            measurement=snapshot.baseline_grid_w,
            now_s=snapshot.now_s,
            out_min=out_min,
            out_max=out_max,
            direction=-1.0,
        )
        why = "high, covering load" if high else "mid, storing PV surplus only"
        return ModeDecision(power_w, f"cost saving: price {price:.3f} {why}"), GridLoopState(pid)
