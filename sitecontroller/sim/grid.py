"""The grid at the connection point: frequency (from a profile) and outages."""

from __future__ import annotations

from collections.abc import Callable

FrequencyProfile = Callable[[float], float]


class GridModel:
    def __init__(self, nominal_freq_hz: float = 50.0, voltage_v: float = 230.0) -> None:
        self.nominal_freq_hz = nominal_freq_hz
        self.voltage_v = voltage_v
        self.profile: FrequencyProfile | None = None
        self.outages: list[tuple[float, float]] = []

    def available(self, t_s: float) -> bool:
        return not any(start <= t_s < end for start, end in self.outages)

    def freq_hz(self, t_s: float) -> float:
        return self.profile(t_s) if self.profile is not None else self.nominal_freq_hz
