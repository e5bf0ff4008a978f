"""The prequalification tests against the plant inverter (50 ms dead time, 150 ms lag)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sitecontroller.scenario.evaluate import evaluate
from sitecontroller.scenario.gridtest import GridTestSpec, run_gridtest

MW = 1e6


def report(**kw: Any) -> dict[str, Any]:
    return evaluate(run_gridtest(GridTestSpec(**kw)))


def failed(rep: dict[str, Any]) -> list[str]:
    return [r["name"] for r in rep["requirements"] if not r["passed"]]


@pytest.mark.parametrize("service", ["fcrd-up", "fcrd-down"])
def test_fcrd_fast_ramp_passes_with_margin(service: str) -> None:
    rep = report(service=service, test="fast-ramp", capacity_w=MW, energy_wh=MW, soc_pct=50.0)
    assert rep["passed"], failed(rep)
    assert rep["figures"]["power_at_7_5_s_frac"] >= 0.95  # requirement 0.86
    assert rep["figures"]["energy_7_5_s_capacity_s"] >= 6.0  # requirement 3.2 s
    # With the TR's default 1 s frequency-measurement lag it still passes.
    lagged = report(
        service=service, test="fast-ramp", capacity_w=MW, energy_wh=MW, soc_pct=50.0, freq_lag_s=1.0
    )
    assert lagged["passed"], failed(lagged)


def test_fcrn_step_passes() -> None:
    rep = report(service="fcrn", test="step", capacity_w=MW, energy_wh=2 * MW, soc_pct=50.0)
    assert rep["passed"], failed(rep)
    assert rep["figures"]["time_to_63pct_s"] < 1.0


@pytest.mark.parametrize("level", [49.7, 49.6, 49.5])
def test_ffr_event_full_activation_well_inside_the_limit(level: float) -> None:
    rep = report(service="ffr", test="event", capacity_w=MW, energy_wh=MW, soc_pct=50.0, ffr_level_hz=level)
    assert rep["passed"], failed(rep)
    assert rep["figures"]["ffr_time_to_full_s"] < 0.65


def test_ffr_five_second_support_variant() -> None:
    rep = report(service="ffr", test="event", capacity_w=MW, energy_wh=MW, soc_pct=50.0, ffr_support_s=5.0)
    assert rep["passed"], failed(rep)


def test_lfsm_o_steps_follow_the_droop() -> None:
    rep = report(service="lfsm-o", test="steps", capacity_w=MW, energy_wh=MW, soc_pct=50.0)
    assert rep["passed"], failed(rep)


@pytest.mark.parametrize(("service", "soc_pct"), [("fcrd-up", 45.0), ("fcrd-down", 55.0)])
def test_ler_fcrd_sequence_nem_aem_as_expected(service: str, soc_pct: float) -> None:
    rep = report(service=service, test="ler", capacity_w=MW, energy_wh=MW, soc_pct=soc_pct)
    assert rep["passed"], failed(rep)
    assert len(rep["requirements"]) == 5


def test_ler_fcrn_sequence_nem_aem_as_expected() -> None:
    rep = report(service="fcrn", test="ler", capacity_w=MW, energy_wh=2 * MW, soc_pct=60.0)
    assert rep["passed"], failed(rep)
    assert len(rep["requirements"]) == 12


def test_a_slow_plant_fails_and_says_why() -> None:
    """The evaluation is not a rubber stamp: a 60 kW/s ramp-limited 1 MW inverter misses Req 2 and 3."""
    slow = report(service="fcrd-up", test="fast-ramp", capacity_w=MW, energy_wh=MW, soc_pct=50.0,
                  inverter_ramp_w_per_s=0.06 * MW)  # fmt: skip
    assert slow["passed"] is False
    assert {name.split()[0] for name in failed(slow)} >= {"Req2", "Req3"}


def test_bad_specs_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown test"):
        GridTestSpec(service="ffr", test="fast-ramp", capacity_w=MW, energy_wh=MW, soc_pct=50.0)
    with pytest.raises(ValueError, match="exactly one"):
        GridTestSpec(service="ffr", capacity_w=MW, energy_wh=MW, soc_pct=50.0)
    with pytest.raises(ValueError, match="positive"):
        GridTestSpec(service="fcrn", test="step", capacity_w=0.0, energy_wh=MW, soc_pct=50.0)


def test_sine_sweep_reports_gain_and_phase_without_a_verdict() -> None:
    rep = report(service="fcrn", test="sine-10", capacity_w=MW, energy_wh=2 * MW, soc_pct=50.0)
    assert rep["passed"] is None and rep["requirements"] == []
    assert rep["figures"]["gain"] == pytest.approx(1.0, abs=0.02)
    assert -15.0 < rep["figures"]["phase_deg"] < 0.0  # the inverter lags a little


def test_csv_profile_steady_state_is_checked(tmp_path: Path) -> None:
    profile = tmp_path / "f.csv"
    profile.write_text("t_s,freq_hz\n0,50.0\n20,50.0\n20,49.95\n40,49.95\n40,50.06\n60,50.06\n")
    rep = report(service="fcrn", profile_path=profile, capacity_w=MW, energy_wh=2 * MW, soc_pct=50.0)
    assert rep["passed"] and len(rep["requirements"]) == 3
