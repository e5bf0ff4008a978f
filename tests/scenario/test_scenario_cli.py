from __future__ import annotations

import argparse
import csv
import json
from itertools import pairwise
from pathlib import Path

import pytest

from sitecontroller.scenario.cli import register


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sitecontroller")
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.handler(args)


def test_gridtest_with_a_profile_csv_writes_response_report_and_plot(tmp_path: Path) -> None:
    profile = tmp_path / "freq.csv"
    profile.write_text("t_s,freq_hz\n0,49.9\n5,49.9\n6.7,49.5\n30,49.5\n31.7,49.9\n40,49.9\n")
    out = tmp_path / "out"
    code = main(["gridtest", "--service", "fcrd-up", "--profile", str(profile), "--capacity-kw", "100",
                 "--energy-kwh", "100", "--soc-pct", "50", "--out", str(out)])  # fmt: skip
    assert code == 0
    with (out / "response.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {"t_s", "freq_hz", "setpoint_kw", "power_kw", "soc_pct", "nem", "aem"} <= set(rows[0])
    times = [float(r["t_s"]) for r in rows]
    assert max(b - a for a, b in pairwise(times)) <= 0.1 + 1e-9  # >= 10 Hz
    assert float(rows[250]["power_kw"]) == pytest.approx(100.0, rel=0.01)  # t = 25 s at 49.5 Hz
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] and report["service"] == "fcrd-up"
    assert (out / "response.png").stat().st_size > 10_000
    assert len(list((out / "tso").glob("SIM_FcrdUp_Profile_SIM_UTC_*_100ms_20260101.csv"))) == 1


def test_gridtest_named_test_reports_pass_and_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["gridtest", "--service", "ffr", "--test", "event", "--capacity-kw", "500", "--energy-kwh",
                 "500", "--soc-pct", "60", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "PASSED" in printed and "ffr_time_to_full_s" in printed


@pytest.mark.parametrize(
    "argv",
    [
        ["--service", "ffr", "--test", "fast-ramp"],
        ["--service", "fcrn", "--test", "step", "--soc-pct", "150"],
        ["--service", "fcrn", "--profile", "/nonexistent.csv"],
    ],
)
def test_gridtest_bad_input_exits_2(tmp_path: Path, argv: list[str]) -> None:
    base = {"--capacity-kw": "100", "--energy-kwh": "100", "--soc-pct": "50", "--out": str(tmp_path)}
    for key in argv[::2]:
        base.pop(key, None)
    args = ["gridtest", *argv, *[x for kv in base.items() for x in kv]]
    assert main(args) == 2


def test_scenario_run_writes_timeseries_summary_and_plot(tmp_path: Path) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({
        "kind": "site", "name": "short", "duration_s": 600, "start_time_of_day_s": 43200, "plant_dt_s": 1.0,
        "sample_s": 10, "mode": "self_consumption",
        "events": [{"t_s": 300, "kind": "load_step", "power_kw": 10}],
    }))  # fmt: skip
    out = tmp_path / "out"
    assert main(["scenario", "run", str(scenario), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert 0.0 <= summary["grid_exchange_fraction"] < 1.0
    assert summary["load_steps"][0]["step_kw"] == 10.0
    with (out / "timeseries.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header[:5] == ["t_s", "pv_kw", "load_kw", "grid_kw", "battery_kw"]
    assert (out / "power.png").exists()


def test_scenario_run_of_a_gridtest_file(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "config" / "scenarios"
    assert main(["scenario", "run", str(examples / "ffr-from-trace.json"), "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "report.json").read_text())["passed"]


def test_scenario_run_bad_file_exits_2(tmp_path: Path) -> None:
    assert main(["scenario", "run", str(tmp_path / "missing.json"), "--out", str(tmp_path)]) == 2
