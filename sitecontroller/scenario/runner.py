"""Entry points: run a scenario file or a grid test and write its results into a directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sitecontroller.scenario.evaluate import evaluate
from sitecontroller.scenario.gridtest import GridTestSpec, run_gridtest
from sitecontroller.scenario.model import GridTestScenario, SiteScenario, load_scenario
from sitecontroller.scenario.output import plot_site, write_csv, write_json, write_response
from sitecontroller.scenario.site_runner import SiteRun
from sitecontroller.scenario.summary import summarise


def run_gridtest_to(spec: GridTestSpec, out_dir: Path) -> dict[str, Any]:
    """Simulate, evaluate, write response.csv, report.json and response.png; return the report."""
    run = run_gridtest(spec)
    report = evaluate(run)
    write_response(out_dir, run, report)
    return report


def run_site_to(scenario: SiteScenario, out_dir: Path) -> dict[str, Any]:
    """Simulate, write timeseries.csv, summary.json and PNG plots; return the summary."""
    trace = SiteRun(scenario).run()
    summary = summarise(scenario, trace)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [
        (f"{t:.2f}", f"{pv / 1000:.3f}", f"{ld / 1000:.3f}", f"{g / 1000:.3f}", f"{b / 1000:.3f}",
         f"{sp / 1000:.3f}", f"{soc:.3f}", f"{cl / 1000:.3f}", reason)
        for t, pv, ld, g, b, sp, soc, cl, reason in zip(
            trace.t_s, trace.pv_w, trace.load_w, trace.grid_w, trace.battery_w, trace.setpoint_w,
            trace.soc_pct, trace.clipped_w, trace.reason, strict=True,
        )
    ]  # fmt: skip
    header = (
        "t_s",
        "pv_kw",
        "load_kw",
        "grid_kw",
        "battery_kw",
        "setpoint_kw",
        "soc_pct",
        "clipped_kw",
        "reason",
    )
    write_csv(out_dir / "timeseries.csv", header, rows)
    write_json(out_dir / "summary.json", summary)
    series = {
        "grid (+import)": [g / 1000 for g in trace.grid_w],
        "battery (+discharge)": [b / 1000 for b in trace.battery_w],
        "pv": [p / 1000 for p in trace.pv_w],
        "load": [x / 1000 for x in trace.load_w],
    }
    plot_site(out_dir / "power.png", trace.t_s, series, trace.soc_pct, f"{scenario.name} ({scenario.mode})")
    return summary


def spec_from_scenario(scenario: GridTestScenario, base_dir: Path) -> GridTestSpec:
    profile = None
    if scenario.profile is not None:
        profile = Path(scenario.profile)
        profile = profile if profile.is_absolute() else base_dir / profile
    return GridTestSpec(
        service=scenario.service,
        test=scenario.test,
        profile_path=profile,
        capacity_w=scenario.capacity_kw * 1000.0,
        energy_wh=scenario.energy_kwh * 1000.0,
        soc_pct=scenario.soc_pct,
        freq_lag_s=scenario.freq_lag_s,
    )


def run_scenario_file(path: Path, out_dir: Path) -> dict[str, Any]:
    scenario = load_scenario(path)
    if isinstance(scenario, GridTestScenario):
        return run_gridtest_to(spec_from_scenario(scenario, path.parent), out_dir)
    return run_site_to(scenario, out_dir)
