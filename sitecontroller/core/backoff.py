"""Jittered exponential backoff ("full jitter"): a fleet that lost its hub together does not
come back in lock-step (the SDK's own retry is a fixed 10 s grid, see the reference)."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, initial_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self._initial_s = initial_s
        self._max_s = max_s
        self._rng = rng or random.Random()
        self._attempt = 0

    def next_delay_s(self) -> float:
        cap = min(self._max_s, self._initial_s * (2.0**self._attempt))
        self._attempt += 1
        return self._rng.uniform(self._initial_s / 2.0, cap)

    def reset(self) -> None:
        self._attempt = 0
