from __future__ import annotations

import pytest

from masterController.grid_support.characteristics import Fcr
from masterController.grid_support.energy_management import ler_thresholds
from masterController.grid_support.fcr import FcrProduct
from masterController.grid_support.rolling_mean import RollingMean


def test_worked_thresholds_of_the_reference() -> None:
    n = ler_thresholds(Fcr.N, 1e6, 2e6)
    assert (n.nem_enable_low, n.nem_enable_high) == pytest.approx((0.25, 0.75))
    assert (n.nem_disable_low, n.nem_disable_high) == pytest.approx((0.479, 0.521), abs=1e-3)
    assert (n.aem_enable_low, n.aem_enable_high) == pytest.approx((0.0417, 0.9583), abs=1e-4)
    assert (n.aem_disable_low, n.aem_disable_high) == pytest.approx((0.0833, 0.9167), abs=1e-4)
    up = ler_thresholds(Fcr.D_UP, 1e6, 1e6)
    assert up.nem_enable_low == pytest.approx(1 / 3) and up.aem_enable_low == pytest.approx(0.0833, abs=1e-4)
    assert up.nem_enable_high > 1.0  # FCR-D up never manages the full side
    down = ler_thresholds(Fcr.D_DOWN, 1e6, 1e6)
    assert down.nem_enable_high == pytest.approx(2 / 3) and down.aem_disable_high == pytest.approx(
        0.8333, abs=1e-4
    )
    with pytest.raises(ValueError):
        ler_thresholds(Fcr.N, 1e6, 0.0)


def test_rolling_mean_samples_once_a_second() -> None:
    mean = RollingMean(0.0, window=300)
    for k in range(3000):  # 100 ms ticks for 300 s
        mean.update(1.0, k * 0.1)
    assert mean.mean == pytest.approx(1.0)
    half = RollingMean(0.0, window=300)
    for k in range(1500):
        half.update(1.0, k * 0.1)
    assert half.mean == pytest.approx(0.5)


def test_nem_only_in_band_and_ramps_over_300_s() -> None:
    fcr = FcrProduct(Fcr.N, 1e6, 2e6, nem_gain=0.34, energy_management=True)
    # Low SOC at 50.0 Hz: NEM asks to charge; its power builds linearly through the 300 s mean.
    powers = [fcr.update(50.0, 0.2, float(t)) for t in range(0, 301)]
    assert powers[150] == pytest.approx(-0.34e6 * 150 / 300, rel=0.02)
    assert powers[300] == pytest.approx(-0.34e6, rel=0.01)
    # Outside the band NEM_Allowed is 0 and P_NEM decays back over 300 s.
    assert fcr.update(49.8, 0.2, 301.0) == pytest.approx(1e6 - 0.34e6, rel=0.01)
    assert fcr.em is not None and fcr.em.nem_allowed == 0
    for t in range(302, 700):
        fcr.update(49.8, 0.2, float(t))
    assert fcr.nem_w == pytest.approx(0.0)


def test_nem_hysteresis_holds_until_the_disable_threshold() -> None:
    fcr = FcrProduct(Fcr.N, 1e6, 2e6, nem_gain=0.34, energy_management=True)
    fcr.update(50.0, 0.24, 0.0)
    assert fcr.em is not None and fcr.em.nem_allowed == -1
    fcr.update(50.0, 0.40, 1.0)
    assert fcr.em.nem_allowed == -1  # still below 0.479
    fcr.update(50.0, 0.48, 2.0)
    assert fcr.em.nem_allowed == 0


def test_aem_ramps_the_response_to_zero_over_five_minutes() -> None:
    fcr = FcrProduct(Fcr.D_UP, 1e6, 1e6, nem_gain=0.2, energy_management=True)
    assert fcr.update(49.5, 0.5, 0.0) == pytest.approx(1e6)
    assert fcr.update(49.5, 0.05, 1.0) == pytest.approx(1e6, rel=0.01)  # AEM just switched on
    assert fcr.em is not None and fcr.em.aem_on
    at_150 = [fcr.update(49.5, 0.05, float(t)) for t in range(2, 152)][-1]
    assert at_150 == pytest.approx(0.5e6, rel=0.02)
    at_301 = [fcr.update(49.5, 0.05, float(t)) for t in range(152, 302)][-1]
    assert at_301 == pytest.approx(0.0, abs=0.01e6)
    assert fcr.endurance_min(0.05) == (0.0, 0.0)  # reported as unavailable while AEM is on


def test_fcrd_output_limits_allow_nem_only_20_pct_the_wrong_way() -> None:
    fcr = FcrProduct(Fcr.D_UP, 1e6, 1e6, nem_gain=0.5, energy_management=True)
    assert fcr.nem_gain == 0.2  # fixed by the TR for FCR-D
    for t in range(400):
        power_w = fcr.update(49.95, 0.1, float(t))
    assert power_w == pytest.approx(-0.2e6, rel=0.01)


def test_endurance_report() -> None:
    fcr = FcrProduct(Fcr.N, 1e6, 2e6, nem_gain=0.34, energy_management=False)
    up_min, down_min = fcr.endurance_min(0.5)
    assert (up_min, down_min) == pytest.approx((60.0, 60.0))
