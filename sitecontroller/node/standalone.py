"""The power request of a node that is its own master: the selected mode controller decides."""

from __future__ import annotations

from masterController.control.mode_manager import ControlOutput, ModeManager
from sitecontroller.core.clock import Clock
from sitecontroller.node.core import ControlInputs, PowerRequest
from sitecontroller.node.site_view import site_snapshot


class StandaloneControl:
    def __init__(self, manager: ModeManager, clock: Clock) -> None:
        self.manager = manager
        self._clock = clock
        self.last: ControlOutput | None = None

    def __call__(self, inputs: ControlInputs) -> PowerRequest:
        view = site_snapshot(inputs.snap, inputs.limits, self._clock.wall(), inputs.service_power_w)
        if view is None:
            return PowerRequest(0.0, "no valid battery data")
        self.last = self.manager.step(view)
        return PowerRequest(self.last.decision.power_w, f"{self.last.mode}: {self.last.decision.reason}")
