"""Latest typed readings, each with a timestamp and a validity, and a frozen snapshot per cycle.

Drivers write; control reads only snapshots. A reading older than its source's timeout is stale
and the snapshot says so, so control always takes the safe branch on old data.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Generic, TypeVar

from sitecontroller.core.clock import Clock

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Stamped(Generic[T]):
    value: T
    at_s: float
    valid: bool = True


@dataclass(frozen=True, slots=True)
class Snapshot:
    at_s: float
    readings: MappingProxyType[str, Stamped[object]]
    timeouts_s: MappingProxyType[str, float]

    def age_s(self, source: str) -> float | None:
        item = self.readings.get(source)
        return None if item is None else self.at_s - item.at_s

    def fresh(self, source: str) -> object | None:
        """The value when valid and younger than its timeout, else None (the safe branch)."""
        item = self.readings.get(source)
        if item is None or not item.valid:
            return None
        timeout_s = self.timeouts_s.get(source)
        if timeout_s is not None and self.at_s - item.at_s > timeout_s:
            return None
        return item.value

    def is_stale(self, source: str) -> bool:
        return source in self.timeouts_s and self.fresh(source) is None


class DataStore:
    def __init__(self, clock: Clock, timeouts_s: dict[str, float] | None = None) -> None:
        self._clock = clock
        self._readings: dict[str, Stamped[object]] = {}
        self._timeouts_s = dict(timeouts_s or {})

    def expect(self, source: str, timeout_s: float) -> None:
        """Declare a source that must keep reporting; a missing or old reading is then stale."""
        self._timeouts_s[source] = timeout_s

    def put(self, source: str, value: object, valid: bool = True) -> None:
        self._readings[source] = Stamped(value, self._clock.monotonic(), valid)

    def invalidate(self, source: str) -> None:
        item = self._readings.get(source)
        if item is not None:
            self._readings[source] = Stamped(item.value, item.at_s, False)

    def snapshot(self) -> Snapshot:
        return Snapshot(
            self._clock.monotonic(),
            MappingProxyType(dict(self._readings)),
            MappingProxyType(dict(self._timeouts_s)),
        )
