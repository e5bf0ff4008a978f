from __future__ import annotations

import pytest

from masterController.grid_support.characteristics import F0_HZ, Fcr, fcr_power_w, lfsm_power_w

C = 1_000.0


@pytest.mark.parametrize(
    ("product", "freq_hz", "expected_w"),
    [
        (Fcr.N, 50.0, 0.0),
        (Fcr.N, 49.95, 500.0),
        (Fcr.N, 49.9, 1_000.0),
        (Fcr.N, 49.5, 1_000.0),
        (Fcr.N, 50.05, -500.0),
        (Fcr.N, 50.3, -1_000.0),
        (Fcr.D_UP, 49.95, 0.0),
        (Fcr.D_UP, 49.9, 0.0),
        (Fcr.D_UP, 49.7, 500.0),
        (Fcr.D_UP, 49.5, 1_000.0),
        (Fcr.D_UP, 49.0, 1_000.0),
        (Fcr.D_UP, 50.3, 0.0),
        (Fcr.D_DOWN, 50.1, 0.0),
        (Fcr.D_DOWN, 50.3, -500.0),
        (Fcr.D_DOWN, 51.0, -1_000.0),
        (Fcr.D_DOWN, 49.0, 0.0),
    ],
)
def test_fcr_static_characteristics(product: Fcr, freq_hz: float, expected_w: float) -> None:
    assert fcr_power_w(product, C, F0_HZ[product], freq_hz) == pytest.approx(expected_w)


def test_lfsm_droop_thresholds_and_saturation() -> None:
    kw = {"f1_hz": 47.5, "f2_hz": 49.8, "f3_hz": 50.2, "f4_hz": 51.5, "droop_pct": 5.0}
    assert lfsm_power_w(50.1, C, over=True, under=True, **kw) == 0.0
    assert lfsm_power_w(50.7, C, over=True, under=False, **kw) == pytest.approx(-200.0)  # 40 %/Hz
    assert lfsm_power_w(52.0, C, over=True, under=False, **kw) == pytest.approx(-520.0)  # saturates at f4
    assert lfsm_power_w(49.3, C, over=True, under=True, **kw) == pytest.approx(200.0)
    assert lfsm_power_w(49.3, C, over=True, under=False, **kw) == 0.0
    assert lfsm_power_w(50.7, C, over=True, under=False, **{**kw, "droop_pct": 10.0}) == pytest.approx(-100.0)
