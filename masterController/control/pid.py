"""A PID loop as a pure function of (gains, state, inputs) so mode controllers stay pure.

Why each feature exists:
- derivative on the measurement (not the error): a setpoint step does not kick the output;
- first-order filter on that derivative: meter noise would otherwise reach the inverter amplified;
- conditional integration plus an integrator clamped to the output limits: the integrator never winds
  up while the output is saturated, and a tightened limit takes effect at once without a long unwind;
- the integrator is held in output units (watts), so changing gains does not bump the output, and
  `PidState.bumpless` seeds it from the power actually delivered on a mode change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sitecontroller.config.control import PidGains


@dataclass(frozen=True, slots=True)
class PidState:
    integral: float = 0.0
    derivative: float = 0.0
    last_measurement: float | None = None
    last_time_s: float | None = None
    output: float = 0.0

    @staticmethod
    def bumpless(output: float, measurement: float, now_s: float) -> PidState:
        """State that continues from `output` (e.g. the delivered power) with no step."""
        return PidState(integral=output, last_measurement=measurement, last_time_s=now_s, output=output)


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def pid_step(
    gains: PidGains,
    state: PidState,
    *,
    setpoint: float,
    measurement: float,
    now_s: float,
    out_min: float,
    out_max: float,
    direction: float = 1.0,
) -> tuple[float, PidState]:
    """One update. `direction=-1` for plants where more output lowers the error sign
    (the error is `direction * (setpoint - measurement)`). Returns (saturated output, new state)."""
    if out_min > out_max:
        raise ValueError(f"PID limits inverted: {out_min} > {out_max}")
    dt_s = 0.0 if state.last_time_s is None else now_s - state.last_time_s
    if dt_s < 0:
        raise ValueError("PID time ran backwards")
    error = direction * (setpoint - measurement)
    proportional = gains.kp * error

    derivative = state.derivative
    if dt_s > 0 and state.last_measurement is not None and gains.kd_s > 0:
        raw = -direction * gains.kd_s * (measurement - state.last_measurement) / dt_s
        alpha = dt_s / (gains.derivative_filter_s + dt_s)
        derivative += alpha * (raw - derivative)

    integral = state.integral
    candidate = integral + gains.ki_per_s * error * dt_s
    unsaturated = proportional + candidate + derivative
    # Conditional integration: integrate into a saturated direction only up to the point where the
    # output reaches the limit, never beyond; the integrator is not unwound by a proportional kick.
    if unsaturated > out_max and error > 0:
        integral = max(integral, min(candidate, out_max - proportional - derivative))
    elif unsaturated < out_min and error < 0:
        integral = min(integral, max(candidate, out_min - proportional - derivative))
    else:
        integral = candidate
    integral = _clip(integral, out_min, out_max)
    output = _clip(proportional + integral + derivative, out_min, out_max)
    return output, replace(
        state,
        integral=integral,
        derivative=derivative,
        last_measurement=measurement,
        last_time_s=now_s,
        output=output,
    )
