from __future__ import annotations

from pathlib import Path

import pytest

from sitecontroller.sim.frequency import (
    PiecewiseProfile,
    fcr_sine,
    fcrd_fast_ramp,
    fcrd_static,
    fcrn_step,
    ler_fcrd,
    ler_fcrn,
    ler_profile,
)


def test_fast_ramp_follows_table_4_with_ramps_from_their_speed() -> None:
    up = fcrd_fast_ramp("up")
    assert up.freq_hz(0.0) == 49.9 and up.freq_hz(30.0) == 49.9
    assert up.freq_hz(30.0 + 0.45 / 0.14) == pytest.approx(49.45)
    assert up.freq_hz(91.7) == pytest.approx(49.5)
    assert up.freq_hz(690.0 + 3.75) == pytest.approx(49.0)
    assert up.freq_hz(697.5) == pytest.approx(49.0)
    assert up.freq_hz(754.2) == pytest.approx(50.0)
    assert up.duration_s == 1050.0
    down = fcrd_fast_ramp("down")
    assert down.freq_hz(697.5) == pytest.approx(51.0) and down.freq_hz(32.0) == pytest.approx(
        100.0 - up.freq_hz(32.0)
    )
    assert fcrd_fast_ramp("up", combined=True).duration_s == 1650.0


def test_static_and_step_and_sine() -> None:
    static = fcrd_static("up", hold_s=900.0)
    assert static.freq_hz(181.0) == pytest.approx(49.9 - 0.24)
    assert static.freq_hz(1000.0) == 49.5
    step = fcrn_step()
    assert [step.freq_hz(t) for t in (10.0, 45.0, 200.0, 500.0, 800.0, 1100.0)] == [
        50.0,
        49.95,
        50.0,
        49.9,
        50.1,
        50.0,
    ]
    assert fcrn_step(endurance=True).duration_s == pytest.approx(1260.0 + 1200.0)
    sine = fcr_sine(40, center_hz=49.7)
    assert sine.freq_hz(10.0) == pytest.approx(49.8) and sine.duration_s == 280.0
    with pytest.raises(ValueError):
        fcr_sine(33)


def test_ler_tables() -> None:
    n = ler_fcrn()
    assert len(n) == 12 and n[1].freq_hz == 50.09 and n[1].min_duration_s == 28 * 60
    down = ler_fcrd("down")
    assert [s.freq_hz for s in down] == [50.09, 50.5, 50.09, 50.5, 50.09]
    played = ler_profile(down, [30.0, 600.0, 150.0, 900.0, 900.0])
    assert played.freq_hz(100.0) == 50.5 and played.duration_s == 2580.0


def test_csv_trace_with_linear_interpolation(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("t_s,freq_hz\n0,50.0\n10,49.8\n\n20,49.8\n")
    profile = PiecewiseProfile.from_csv(path)
    assert profile.freq_hz(5.0) == pytest.approx(49.9)
    assert profile.freq_hz(99.0) == 49.8 and profile.duration_s == 20.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,f\n0,50\n", "header"),
        ("t_s,freq_hz\n0,50\n5,abc\n", ":3: not a number"),
        ("t_s,freq_hz\n0,50\n5\n", ":3: expected 2 fields"),
        ("t_s,freq_hz\n0,50\n5,49\n3,49\n", "must not decrease"),
        ("t_s,freq_hz\n1,50\n", "starts at t_s = 0"),
        ("t_s,freq_hz\n0,500\n", "40..60 Hz"),
        ("t_s,freq_hz\n", "no data"),
    ],
)
def test_bad_csv_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        PiecewiseProfile.from_csv(path)
