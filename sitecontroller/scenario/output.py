"""Writes scenario and grid-test results: CSV, JSON and PNG plots (matplotlib, Agg backend)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on the Pi or in CI; must precede the pyplot import
import matplotlib.pyplot as plt

from masterController.grid_support.operation_log import OperationLog
from sitecontroller.scenario.gridtest import GridTestRun


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(
        json.dumps(_finite(data), indent=2, allow_nan=False, default=float) + "\n", encoding="utf-8"
    )


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_tso_log(out_dir: Path, run: GridTestRun) -> None:
    """The TSO-format test log (FCR products): DIR/tso/<Resource>_<Service>_<Test>_....csv at 100 ms."""
    if not run.log.tso:
        return
    service = {"fcrn": "fcrn", "fcrd-up": "fcrd_up", "fcrd-down": "fcrd_down"}[run.spec.service]
    test = "".join(part.capitalize() for part in (run.spec.test or "profile").split("-"))
    duration_min = round(run.log.t_s[-1] / 60.0)
    tso = OperationLog(out_dir / "tso", "SIM", service, "SIM", test_type=test, interval=f"{duration_min}min",
                       sampling_s=run.spec.log_s, retention_days=365)  # fmt: skip
    for sample in run.log.tso:
        tso.record(sample)
    tso.close()


def write_response(out_dir: Path, run: GridTestRun, report: dict[str, Any]) -> list[Path]:
    """response.csv (10 Hz), report.json, response.png and the TSO-format log into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_tso_log(out_dir, run)
    log = run.log
    rows = [
        (
            f"{t:.2f}",
            f"{f:.4f}",
            f"{sp / 1000:.3f}",
            f"{p / 1000:.3f}",
            f"{soc:.3f}",
            nem,
            aem,
            f"{nw / 1000:.3f}",
        )
        for t, f, sp, p, soc, nem, aem, nw in zip(
            log.t_s,
            log.freq_hz,
            log.setpoint_w,
            log.power_w,
            log.soc_pct,
            log.nem,
            log.aem,
            log.nem_w,
            strict=True,
        )
    ]
    csv_path = out_dir / "response.csv"
    write_csv(
        csv_path, ("t_s", "freq_hz", "setpoint_kw", "power_kw", "soc_pct", "nem", "aem", "nem_kw"), rows
    )
    report_path = out_dir / "report.json"
    write_json(report_path, report)
    plot_path = out_dir / "response.png"
    fig, (ax_f, ax_p, ax_s) = plt.subplots(3, 1, sharex=True, figsize=(11, 8))
    ax_f.plot(log.t_s, log.freq_hz, color="tab:blue")
    ax_f.set_ylabel("frequency [Hz]")
    ax_p.plot(log.t_s, [p / 1000 for p in log.setpoint_w], label="setpoint", color="tab:gray", linewidth=0.8)
    ax_p.plot(log.t_s, [p / 1000 for p in log.power_w], label="delivered", color="tab:red")
    ax_p.set_ylabel("power [kW] (+ discharge)")
    ax_p.legend(loc="upper right")
    ax_s.plot(log.t_s, log.soc_pct, color="tab:green", label="SoC %")
    ax_s.set_ylabel("SoC [%]")
    if any(log.nem) or any(log.aem):
        ax_n = ax_s.twinx()
        ax_n.step(log.t_s, log.nem, where="post", label="NEM", color="tab:purple")
        ax_n.step(log.t_s, [a * 0.9 for a in log.aem], where="post", label="AEM", color="tab:orange")
        ax_n.set_ylim(-0.1, 1.2)
        ax_n.legend(loc="upper right")
    ax_s.set_xlabel("time [s]")
    verdict = {True: "PASS", False: "FAIL", None: "recorded"}[report["passed"]]
    fig.suptitle(f"{report['service']} {report['test'] or report['profile']}: {verdict}")
    fig.tight_layout()
    fig.savefig(plot_path, dpi=100)
    plt.close(fig)
    return [csv_path, report_path, plot_path]


def plot_site(path: Path, t_s: Sequence[float], series: dict[str, Sequence[float]], soc_pct: Sequence[float],
              title: str) -> None:  # fmt: skip
    fig, (ax_p, ax_s) = plt.subplots(2, 1, sharex=True, figsize=(11, 7))
    hours = [t / 3600.0 for t in t_s]
    for label, values in series.items():
        ax_p.plot(hours, values, label=label, linewidth=0.9)
    ax_p.set_ylabel("power [kW]")
    ax_p.legend(loc="upper right")
    ax_s.plot(hours, soc_pct, color="tab:green")
    ax_s.set_ylabel("SoC [%]")
    ax_s.set_xlabel("time [h]")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _finite(value: Any) -> Any:
    """JSON has no inf/nan: report them as strings rather than writing invalid JSON."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
