"""`sitecontroller scenario run FILE --out DIR` and `sitecontroller gridtest ...`.

Exit codes: 0 done (grid test passed), 1 a grid-test requirement failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sitecontroller.scenario.gridtest import SERVICES, TESTS, GridTestSpec
from sitecontroller.scenario.runner import run_gridtest_to, run_scenario_file


def register(subparsers: Any) -> None:
    """Add `scenario` and `gridtest` to the `sitecontroller` command's subparsers."""
    scenario = subparsers.add_parser("scenario", help="run a simulated scenario faster than real time")
    scenario_sub = scenario.add_subparsers(metavar="ACTION")
    run = scenario_sub.add_parser("run", help="run a scenario file (JSON)")
    run.add_argument("file", type=Path, metavar="FILE")
    run.add_argument("--out", type=Path, required=True, metavar="DIR")
    run.set_defaults(handler=_scenario_run)

    tests = "; ".join(f"{s}: {', '.join(t)}" for s, t in TESTS.items())
    grid = subparsers.add_parser(
        "gridtest",
        help="run a grid-service prequalification test against the simulated plant",
        description=f"Tests per service - {tests}. sine-<T>: T in 10, 15, 25, 40, 50, 60, 70, 90, 150, 300.",
    )
    grid.add_argument("--service", required=True, choices=SERVICES)
    source = grid.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--profile", type=Path, metavar="FREQ.csv", help="frequency trace, header t_s,freq_hz"
    )
    source.add_argument("--test", metavar="NAME", help="a built-in test sequence")
    grid.add_argument("--capacity-kw", type=float, required=True, help="contracted capacity C")
    grid.add_argument("--energy-kwh", type=float, required=True, help="energy reservoir E for the product")
    grid.add_argument("--soc-pct", type=float, required=True, help="initial SoC")
    grid.add_argument("--out", type=Path, required=True, metavar="DIR")
    grid.add_argument("--inverter-kw", type=float, default=None, help="inverter rating (default 1.5 x C)")
    grid.add_argument("--inverter-ramp-kw-per-s", type=float, default=None, help="inverter ramp limit")
    grid.add_argument("--freq-lag-s", type=float, default=0.0, help="frequency-measurement lag T_FME")
    grid.add_argument("--ffr-level-hz", type=float, default=49.7, choices=(49.7, 49.6, 49.5))
    grid.add_argument("--ffr-support-s", type=float, default=30.0, choices=(30.0, 5.0))
    grid.set_defaults(handler=_gridtest)


def _scenario_run(args: argparse.Namespace) -> int:
    try:
        result = run_scenario_file(args.file, args.out)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if "requirements" in result:
        return _print_report(result)
    keys = ("grid_import_kwh", "grid_export_kwh", "grid_exchange_fraction", "soc_end_pct")
    for key in keys:
        print(f"{key}: {result[key]:.3f}")
    for step in result.get("load_steps", []):
        print(f"load step {step['step_kw']:.1f} kW: settle(2 %) {step['settle_2pct_s']:.2f} s, "
              f"overshoot {step['overshoot_pct']:.2f} %")  # fmt: skip
    print(f"results in {args.out}")
    return 0


def _gridtest(args: argparse.Namespace) -> int:
    try:
        spec = GridTestSpec(
            service=args.service,
            test=args.test,
            profile_path=args.profile,
            capacity_w=args.capacity_kw * 1000.0,
            energy_wh=args.energy_kwh * 1000.0,
            soc_pct=args.soc_pct,
            inverter_w=args.inverter_kw * 1000.0 if args.inverter_kw else None,
            inverter_ramp_w_per_s=args.inverter_ramp_kw_per_s * 1000.0
            if args.inverter_ramp_kw_per_s
            else None,
            freq_lag_s=args.freq_lag_s,
            ffr_level_hz=args.ffr_level_hz,
            ffr_support_s=args.ffr_support_s,
        )
        report = run_gridtest_to(spec, args.out)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    code = _print_report(report)
    print(f"results in {args.out}")
    return code


def _print_report(report: dict[str, Any]) -> int:
    for check in report["requirements"]:
        mark = "PASS" if check["passed"] else "FAIL"
        value = f"{check['value']:.4g} {check['unit']}".rstrip()
        print(f"{mark}  {check['name']}: {value} ({check['limit']}, margin {check['margin']:.3g})")
    for key, value in report["figures"].items():
        print(f"      {key}: {value:.4g}")
    print(
        {True: "PASSED", False: "FAILED", None: "NO PASS/FAIL CRITERIA FOR THIS PROFILE (recorded)"}[
            report["passed"]
        ]
    )
    return 1 if report["passed"] is False else 0
