"""The shape every mode controller has: (snapshot, previous state) -> (decision, new state)."""

from __future__ import annotations

from typing import Protocol, TypeVar

from masterController.control.snapshot import ModeDecision, SiteSnapshot
from sitecontroller.config.control import ModeName

StateT = TypeVar("StateT")


class ModeController(Protocol[StateT]):
    name: ModeName

    def start(self, snapshot: SiteSnapshot) -> StateT:
        """Initial state on entering the mode, continuing from the power now delivered (bumpless)."""
        ...

    def decide(self, snapshot: SiteSnapshot, state: StateT) -> tuple[ModeDecision, StateT]:
        """The setpoint for this cycle with its reason, and the state for the next cycle."""
        ...
