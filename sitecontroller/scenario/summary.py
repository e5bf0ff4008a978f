"""Figures of a site run: grid exchange with and without the battery, step response to load steps."""

from __future__ import annotations

from typing import Any

import numpy as np

from masterController.control.modes.cost_saving import price_at
from sitecontroller.scenario.model import SiteScenario
from sitecontroller.scenario.site_runner import SiteTrace


def _kwh(power_w: np.ndarray, dt_s: float) -> float:
    return float(power_w.sum() * dt_s / 3.6e6)


def step_response(t_s: np.ndarray, power_w: np.ndarray, step_s: float, step_w: float) -> dict[str, float]:
    """Battery power's response to a load step of `step_w` at `step_s`: time until it stays within
    2 % of the step around its final value, and overshoot beyond that value, as fractions of the step."""
    before = power_w[t_s < step_s]
    initial_w = float(before[-1]) if before.size else 0.0
    after = t_s >= step_s
    t, p = t_s[after], power_w[after]
    final_w = float(p[t >= t[-1] - 5.0].mean())
    band_w = 0.02 * abs(step_w)
    outside = np.flatnonzero(np.abs(p - final_w) > band_w)
    settle_s = float(t[outside[-1] + 1] - step_s) if outside.size and outside[-1] + 1 < t.size else 0.0
    direction = 1.0 if step_w >= 0 else -1.0
    overshoot = max(0.0, float((direction * (p - final_w)).max())) / abs(step_w)
    return {
        "step_kw": step_w / 1000.0,
        "initial_battery_kw": initial_w / 1000.0,
        "final_battery_kw": final_w / 1000.0,
        "settle_2pct_s": settle_s,
        "overshoot_pct": overshoot * 100.0,
    }


def summarise(scenario: SiteScenario, trace: SiteTrace) -> dict[str, Any]:
    dt_s = scenario.sample_s
    grid = np.asarray(trace.grid_w)
    net = np.asarray(trace.load_w) - np.asarray(trace.pv_w)
    battery = np.asarray(trace.battery_w)
    soc = np.asarray(trace.soc_pct)
    t = np.asarray(trace.t_s)
    import_kwh, export_kwh = _kwh(np.clip(grid, 0, None), dt_s), _kwh(np.clip(-grid, 0, None), dt_s)
    import0_kwh, export0_kwh = _kwh(np.clip(net, 0, None), dt_s), _kwh(np.clip(-net, 0, None), dt_s)
    exchange0 = import0_kwh + export0_kwh
    summary: dict[str, Any] = {
        "name": scenario.name,
        "mode": str(scenario.mode),
        "duration_s": scenario.duration_s,
        "grid_import_kwh": import_kwh,
        "grid_export_kwh": export_kwh,
        "grid_import_without_battery_kwh": import0_kwh,
        "grid_export_without_battery_kwh": export0_kwh,
        "grid_exchange_fraction": (import_kwh + export_kwh) / exchange0 if exchange0 > 0 else 0.0,
        "battery_discharge_kwh": _kwh(np.clip(battery, 0, None), dt_s),
        "battery_charge_kwh": _kwh(np.clip(-battery, 0, None), dt_s),
        "peak_import_kw": float(grid.max()) / 1000.0,
        "peak_export_kw": float(-grid.min()) / 1000.0,
        "soc_start_pct": float(soc[0]),
        "soc_end_pct": float(soc[-1]),
        "soc_min_pct": float(soc.min()),
        "soc_max_pct": float(soc.max()),
        "clipped_cycles": int(np.count_nonzero(np.abs(np.asarray(trace.clipped_w)) > 1.0)),
    }
    # Energy cost at the cost-saving tariff (import paid, export not credited): a comparison for any mode.
    prices = scenario.control.cost_saving.prices
    tod = (scenario.start_time_of_day_s + t + scenario.control.utc_offset_s) % 86_400.0
    price = np.array([price_at(prices, x) for x in tod])
    summary["import_cost"] = float((np.clip(grid, 0, None) * price).sum() * dt_s / 3.6e6)
    summary["import_cost_without_battery"] = float((np.clip(net, 0, None) * price).sum() * dt_s / 3.6e6)
    steps = [e for e in scenario.events if e.kind == "load_step"]
    summary["load_steps"] = [step_response(t, battery, e.t_s, e.power_kw * 1000.0) for e in steps]
    return summary
