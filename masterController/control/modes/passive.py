"""Passive: monitoring only, 0 W, ready for activation."""

from __future__ import annotations

from masterController.control.snapshot import ModeDecision, SiteSnapshot
from sitecontroller.config.control import ModeName

_DECISION = ModeDecision(0.0, "passive: monitoring only", nodes_may_sleep=True)


class Passive:
    name = ModeName.PASSIVE

    def start(self, snapshot: SiteSnapshot) -> None:
        return None

    def decide(self, snapshot: SiteSnapshot, state: None) -> tuple[ModeDecision, None]:
        return _DECISION, None
