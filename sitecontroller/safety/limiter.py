"""ChargeLimiter: every output setpoint passes through here.

Each limit source gives the largest charge and discharge power it allows (magnitudes, W).
The limiter takes the tightest per direction, clips the request, and ramps only *away* from
zero: a reduction acts in the same tick (safety), a recovery climbs at the ramp rate.
It reports which source limits, so an operator sees why the battery holds back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NO_LIMIT_SOURCE = "none"
NO_DATA_SOURCE = "no_limit_data"
RAMP_SOURCE = "ramp"


@dataclass(frozen=True, slots=True)
class PowerLimit:
    source: str
    charge_w: float
    discharge_w: float

    def __post_init__(self) -> None:
        if not (self.charge_w >= 0 and self.discharge_w >= 0):
            raise ValueError(f"limit {self.source}: magnitudes must be >= 0 (NaN is refused too)")


@dataclass(frozen=True, slots=True)
class Limits:
    charge_w: float
    discharge_w: float
    charge_source: str
    discharge_source: str

    def source_for(self, power_w: float) -> str:
        return self.discharge_source if power_w >= 0 else self.charge_source


@dataclass(frozen=True, slots=True)
class LimitedSetpoint:
    requested_w: float
    power_w: float
    limits: Limits
    limited_by: str


def combine(sources: Iterable[PowerLimit]) -> Limits:
    """Tightest limit per direction; with no source at all nothing may flow (safe default)."""
    limits = list(sources)
    charge = min(limits, key=lambda lim: lim.charge_w, default=None)
    discharge = min(limits, key=lambda lim: lim.discharge_w, default=None)
    if charge is None or discharge is None:
        return Limits(0.0, 0.0, NO_DATA_SOURCE, NO_DATA_SOURCE)
    return Limits(charge.charge_w, discharge.discharge_w, charge.source, discharge.source)


class ChargeLimiter:
    def __init__(self, ramp_w_per_s: float) -> None:
        if ramp_w_per_s <= 0:
            raise ValueError("ramp rate must be positive")
        self._ramp_w_per_s = ramp_w_per_s
        self._last_w = 0.0
        self._last_s: float | None = None

    @property
    def last_w(self) -> float:
        return self._last_w

    def reset(self, now_s: float) -> None:
        """Forget the ramp history: the output is 0 W from now on."""
        self._last_w = 0.0
        self._last_s = now_s

    def apply(self, requested_w: float, limits: Iterable[PowerLimit], now_s: float) -> LimitedSetpoint:
        combined = combine(limits)
        target_w, limited_by = _clip(requested_w, combined)
        power_w = self._ramp(target_w, now_s)
        if power_w != target_w:
            limited_by = RAMP_SOURCE
        return LimitedSetpoint(requested_w, power_w, combined, limited_by)

    def _ramp(self, target_w: float, now_s: float) -> float:
        dt_s = 0.0 if self._last_s is None else max(0.0, now_s - self._last_s)
        self._last_s = now_s
        last_w = self._last_w
        same_side = target_w * last_w > 0 or last_w == 0
        if same_side and abs(target_w) <= abs(last_w):
            out_w = target_w
        else:
            start_w = last_w if same_side else 0.0
            step_w = self._ramp_w_per_s * dt_s
            out_w = max(min(target_w, start_w + step_w), start_w - step_w)
        self._last_w = out_w
        return out_w


def _clip(requested_w: float, limits: Limits) -> tuple[float, str]:
    if requested_w != requested_w:  # NaN: never command it
        return 0.0, "invalid_request"
    if requested_w > limits.discharge_w:
        return limits.discharge_w, limits.discharge_source
    if requested_w < -limits.charge_w:
        return -limits.charge_w, limits.charge_source
    return requested_w, NO_LIMIT_SOURCE
