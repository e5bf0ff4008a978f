"""The production mode controllers and allocator against the plant models, on simulated time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitecontroller.config.control import PidGains
from sitecontroller.scenario.model import SiteScenario, load_scenario
from sitecontroller.scenario.site_runner import SiteRun
from sitecontroller.scenario.summary import summarise

SCENARIOS = Path(__file__).resolve().parents[2] / "config" / "scenarios"


def run(scenario: SiteScenario) -> dict:
    return summarise(scenario, SiteRun(scenario).run())


def test_self_consumption_day_cuts_grid_exchange() -> None:
    # A whole day with one node; a 5 s cycle (and ki scaled to it) keeps the test quick.
    scenario = SiteScenario.model_validate_json(json.dumps({
        "name": "day", "plant_dt_s": 5.0, "sample_s": 5.0,
        "control": {"cycle_s": 5.0, "self_consumption": {"pid": {"ki_per_s": 0.2}}},
        "nodes": [{"node_id": "n1", "capacity_kwh": 100, "soc_pct": 30, "max_power_kw": 30}],
        "pv_peak_kw": 30, "load_base_kw": 4, "load_peak_kw": 20,
    }))  # fmt: skip
    summary = run(scenario)
    assert summary["grid_exchange_fraction"] < 0.5
    assert summary["soc_min_pct"] >= 19.9  # the backup reserve holds
    assert summary["clipped_cycles"] == 0


@pytest.mark.parametrize("step_s", [10.0, 10.01, 10.5, 10.99])
def test_20kw_load_step_settles_within_3s_without_overshoot(step_s: float) -> None:
    base = load_scenario(SCENARIOS / "load-step-20kw.json")
    assert isinstance(base, SiteScenario)
    scenario = base.model_copy(
        update={"duration_s": 25.0, "events": (base.events[0].model_copy(update={"t_s": step_s}),)}
    )
    (response,) = run(scenario)["load_steps"]
    assert response["settle_2pct_s"] < 3.0
    assert response["overshoot_pct"] < 5.0
    assert response["final_battery_kw"] - response["initial_battery_kw"] == pytest.approx(20.0, rel=0.01)


def test_peak_shaving_with_an_outage_islands_and_reconnects() -> None:
    base = load_scenario(SCENARIOS / "peak-shaving-with-outage.json")
    assert isinstance(base, SiteScenario)
    # 17:00-21:00 only: the evening peak and the 19:00 outage.
    outage = base.events[0].model_copy(update={"t_s": 7_200.0})
    scenario = base.model_copy(
        update={"start_time_of_day_s": 61_200.0, "duration_s": 14_400.0, "events": (outage,)}
    )
    trace = SiteRun(scenario).run()
    reasons = trace.reason
    assert any("islanded" in r for r in reasons)
    assert any("reconnection gradient" in r for r in reasons)
    after = [g for t, g in zip(trace.t_s, trace.grid_w, strict=True) if t > 7_200.0 + 600.0 + 600.0]
    assert max(after) <= 12_000.0 * 1.02  # shaving again once the gradient allows


def test_scenario_files_are_valid() -> None:
    for path in SCENARIOS.glob("*.json"):
        load_scenario(path)


def test_bad_scenario_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "site", "nodes": [], "duration_s": 10}))
    with pytest.raises(ValueError, match=r"bad\.json: invalid scenario"):
        load_scenario(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a JSON object"):
        load_scenario(bad)


def test_cost_saving_day_cuts_the_import_cost() -> None:
    base = load_scenario(SCENARIOS / "cost-saving-day.json")
    assert isinstance(base, SiteScenario)
    control = base.control.model_copy(
        update={
            "cycle_s": 5.0,
            "cost_saving": base.control.cost_saving.model_copy(update={"pid": PidGains(ki_per_s=0.2)}),
        }
    )
    summary = run(base.model_copy(update={"control": control, "plant_dt_s": 5.0, "sample_s": 5.0}))
    assert summary["import_cost"] < 0.6 * summary["import_cost_without_battery"]
    assert summary["grid_export_kwh"] < summary["grid_export_without_battery_kwh"]
