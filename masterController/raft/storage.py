"""The durable part of the election state and the store the core writes it to.

The core calls `save()` synchronously, before it returns any message, so a store that fsyncs
inside `save()` gives Raft's "persist before send" for free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HardState:
    term: int = 0
    voted_for: str | None = None


class HardStateStore(Protocol):
    def load(self) -> HardState: ...

    def save(self, state: HardState) -> None: ...


class MemoryHardStateStore:
    """A store that survives only as long as the object: a simulated disk for tests and the simulator."""

    def __init__(self, state: HardState | None = None) -> None:
        self._state = state or HardState()

    def load(self) -> HardState:
        return self._state

    def save(self, state: HardState) -> None:
        self._state = state
