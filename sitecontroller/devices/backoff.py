"""Reconnect backoff on an injected clock: doubling from a minimum to a maximum, reset on success."""

from __future__ import annotations

from sitecontroller.core.clock import Clock


class Backoff:
    def __init__(self, clock: Clock, min_s: float, max_s: float) -> None:
        if not 0 < min_s <= max_s:
            raise ValueError("backoff needs 0 < min_s <= max_s")
        self._clock = clock
        self._min_s = min_s
        self._max_s = max_s
        self._delay_s = 0.0
        self._not_before_s = float("-inf")

    def ready(self) -> bool:
        return self._clock.monotonic() >= self._not_before_s

    def failed(self) -> None:
        self._delay_s = min(self._max_s, max(self._min_s, self._delay_s * 2))
        self._not_before_s = self._clock.monotonic() + self._delay_s

    def succeeded(self) -> None:
        self._delay_s = 0.0
        self._not_before_s = float("-inf")

    @property
    def delay_s(self) -> float:
        return self._delay_s
