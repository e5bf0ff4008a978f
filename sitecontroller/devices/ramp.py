"""Ramp-rate limiting of setpoints on an injected clock (pure).

Only moves away from zero are limited. A move towards zero (a stop, an e-stop's 0 W, a trip) is
applied at once, and a sign change drops to zero at once and ramps from there, so safety actions
are never held back by the ramp.
"""

from __future__ import annotations

from sitecontroller.core.clock import Clock


class RampLimiter:
    def __init__(self, clock: Clock, rate_per_s: float, initial: float = 0.0) -> None:
        if rate_per_s <= 0:
            raise ValueError("ramp rate must be positive")
        self._clock = clock
        self._rate_per_s = rate_per_s
        self._value = initial
        self._at_s = clock.monotonic()

    def limit(self, target: float) -> float:
        now_s = self._clock.monotonic()
        step = self._rate_per_s * (now_s - self._at_s)
        self._at_s = now_s
        current = self._value
        if 0.0 <= target <= current or current <= target <= 0.0:
            self._value = target
        else:
            start = current if current * target > 0 else 0.0
            self._value = min(max(target, start - step), start + step)
        return self._value

    def reset(self, value: float = 0.0) -> None:
        self._value = value
        self._at_s = self._clock.monotonic()

    @property
    def value(self) -> float:
        return self._value
