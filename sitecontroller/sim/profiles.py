"""Deterministic PV and load profiles over the time of day (seconds since midnight)."""

from __future__ import annotations

import math

DAY_S = 86_400.0


class SolarProfile:
    def __init__(self, peak_w: float, sunrise_s: float = 6 * 3600.0, sunset_s: float = 20 * 3600.0) -> None:
        self.peak_w = peak_w
        self.sunrise_s = sunrise_s
        self.sunset_s = sunset_s

    def power_w(self, time_of_day_s: float) -> float:
        t = time_of_day_s % DAY_S
        if not self.sunrise_s < t < self.sunset_s:
            return 0.0
        phase = (t - self.sunrise_s) / (self.sunset_s - self.sunrise_s)
        # Passing clouds: a slow, repeatable dip pattern rather than random noise.
        clouds = 1.0 - 0.25 * max(0.0, math.sin(t / 1800.0 * math.pi)) ** 8
        return self.peak_w * math.sin(math.pi * phase) ** 1.5 * clouds


class LoadProfile:
    """A household-like load: base load plus morning and evening peaks."""

    def __init__(self, base_w: float, peak_w: float) -> None:
        self.base_w = base_w
        self.peak_w = peak_w

    def power_w(self, time_of_day_s: float) -> float:
        hours = (time_of_day_s % DAY_S) / 3600.0
        morning = math.exp(-(((hours - 7.5) / 1.2) ** 2))
        evening = math.exp(-(((hours - 19.0) / 2.0) ** 2))
        extra = max(morning * 0.6, evening)
        return self.base_w + (self.peak_w - self.base_w) * extra
