"""HealthGate: loops and device services beat; the systemd and hardware watchdogs are fed only while
every expected beat is recent, so a hung loop (or a dead link marked essential) stops the feeding."""

from __future__ import annotations

from sitecontroller.core.clock import Clock


class HealthGate:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._max_age_s: dict[str, float] = {}
        self._beats: dict[str, float] = {}

    def expect(self, name: str, max_age_s: float) -> None:
        """`name` must beat at least every max_age_s (counted from now) for the node to be healthy."""
        self._max_age_s[name] = max_age_s
        self._beats.setdefault(name, self._clock.monotonic())

    def beat(self, name: str) -> None:
        self._beats[name] = self._clock.monotonic()

    def failing(self) -> list[str]:
        now_s = self._clock.monotonic()
        return sorted(n for n, age_s in self._max_age_s.items() if now_s - self._beats[n] > age_s)

    def healthy(self) -> bool:
        return not self.failing()
