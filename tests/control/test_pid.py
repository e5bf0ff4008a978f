from __future__ import annotations

import pytest

from masterController.control.pid import PidState, pid_step
from sitecontroller.config.control import PidGains


def run(gains: PidGains, state: PidState, setpoint: float, measurement: float, now_s: float,
        low: float = -100.0, high: float = 100.0) -> tuple[float, PidState]:  # fmt: skip
    return pid_step(
        gains, state, setpoint=setpoint, measurement=measurement, now_s=now_s, out_min=low, out_max=high
    )


def test_integrator_does_not_wind_up_while_saturated() -> None:
    gains = PidGains(kp=0.5, ki_per_s=1.0, kd_s=0.0)
    state = PidState.bumpless(0.0, 0.0, 0.0)
    for k in range(1, 100):  # a large error for 100 s: a naive integrator would reach ~10 000
        out, state = run(gains, state, setpoint=100.0, measurement=0.0, now_s=float(k))
    assert out == 100.0
    assert state.integral <= 100.0
    # The error reverses: the output leaves saturation on the very next step.
    out, state = run(gains, state, setpoint=0.0, measurement=50.0, now_s=100.0)
    assert out < 100.0 - 25.0


def test_derivative_acts_on_measurement_not_on_setpoint_steps() -> None:
    gains = PidGains(kp=0.0, ki_per_s=0.0, kd_s=1.0, derivative_filter_s=0.0)
    state = PidState.bumpless(0.0, 10.0, 0.0)
    out, state = run(gains, state, setpoint=90.0, measurement=10.0, now_s=1.0)
    assert out == 0.0  # no kick from the setpoint step
    out, state = run(gains, state, setpoint=90.0, measurement=20.0, now_s=2.0)
    assert out == pytest.approx(-10.0)  # measurement rising 10/s -> -kd * 10


def test_derivative_filter_attenuates_noise() -> None:
    raw = PidGains(kp=0.0, ki_per_s=0.0, kd_s=1.0, derivative_filter_s=0.0)
    filtered = PidGains(kp=0.0, ki_per_s=0.0, kd_s=1.0, derivative_filter_s=5.0)
    outs = {}
    for name, gains in (("raw", raw), ("filtered", filtered)):
        state = PidState.bumpless(0.0, 0.0, 0.0)
        peak = 0.0
        for k in range(1, 20):
            noise = 5.0 if k % 2 else -5.0
            out, state = run(gains, state, setpoint=0.0, measurement=noise, now_s=float(k))
            peak = max(peak, abs(out))
        outs[name] = peak
    assert outs["filtered"] < outs["raw"] / 3


def test_bumpless_start_continues_from_the_delivered_output() -> None:
    gains = PidGains(kp=2.0, ki_per_s=0.5, kd_s=0.3)
    state = PidState.bumpless(42.0, 7.0, 10.0)
    out, _ = run(gains, state, setpoint=7.0, measurement=7.0, now_s=11.0)
    assert out == pytest.approx(42.0)


def test_tightened_limit_applies_at_once_and_widening_does_not_jump() -> None:
    gains = PidGains(kp=0.0, ki_per_s=1.0)
    state = PidState.bumpless(80.0, 0.0, 0.0)
    out, state = run(gains, state, setpoint=0.0, measurement=0.0, now_s=1.0, high=30.0)
    assert out == 30.0 and state.integral == 30.0
    out, state = run(gains, state, setpoint=0.0, measurement=0.0, now_s=2.0, high=100.0)
    assert out == 30.0


def test_direction_minus_one_raises_output_when_measurement_is_above_setpoint() -> None:
    gains = PidGains(kp=0.0, ki_per_s=1.0)
    out, _ = pid_step(gains, PidState.bumpless(0.0, 0.0, 0.0), setpoint=0.0, measurement=20.0, now_s=1.0,
                      out_min=-100.0, out_max=100.0, direction=-1.0)  # fmt: skip
    assert out == pytest.approx(20.0)


def test_bad_inputs_are_errors() -> None:
    gains = PidGains()
    with pytest.raises(ValueError, match="inverted"):
        run(gains, PidState(), 0.0, 0.0, 0.0, low=10.0, high=-10.0)
    with pytest.raises(ValueError, match="backwards"):
        run(gains, PidState.bumpless(0.0, 0.0, 5.0), 0.0, 0.0, 4.0)
