"""Injected time: every timeout, ramp and timer in the product reads a Clock.

Production uses SystemClock; tests and the faster-than-real-time simulator use SimClock,
so an hour of behaviour runs in milliseconds and no test sleeps.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (timeouts, leases, ramps)."""
        ...

    def wall(self) -> float:
        """Unix epoch seconds (timestamps for people and the cloud)."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class SimClock:
    """A clock that moves only when told to."""

    def __init__(self, monotonic_s: float = 0.0, wall_s: float = 1_767_225_600.0) -> None:
        self._mono_s = monotonic_s
        self._wall_offset_s = wall_s - monotonic_s

    def monotonic(self) -> float:
        return self._mono_s

    def wall(self) -> float:
        return self._mono_s + self._wall_offset_s

    def advance(self, duration_s: float) -> None:
        if duration_s < 0:
            raise ValueError("time never runs backwards")
        self._mono_s += duration_s

    def set_wall(self, wall_s: float) -> None:
        """Step the wall clock (as NTP might) without touching monotonic time."""
        self._wall_offset_s = wall_s - self._mono_s
