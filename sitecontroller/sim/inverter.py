"""Inverter physics for the simulator: setpoint tracking with dead time, a first-order lag and a
ramp limit, conversion losses, and grid forming (the inverter then supplies whatever the island
needs). AC power positive = discharge.
"""

from __future__ import annotations

import math
from collections import deque


class InverterPlant:
    def __init__(
        self,
        max_power_w: float,
        time_constant_s: float = 0.15,
        dead_time_s: float = 0.05,
        ramp_w_per_s: float | None = None,
        efficiency: float = 0.97,
    ) -> None:
        self.max_power_w = max_power_w
        self.time_constant_s = time_constant_s
        self.dead_time_s = dead_time_s
        self.ramp_w_per_s = ramp_w_per_s
        self.efficiency = efficiency
        self.setpoint_w = 0.0
        self.power_w = 0.0
        self.running = True
        self.fault = False
        self.grid_forming = False
        self.island_demand_w = 0.0
        self._now_s = 0.0
        self._commands: deque[tuple[float, float]] = deque()
        self._effective_setpoint_w = 0.0

    @property
    def dc_power_w(self) -> float:
        """What the battery delivers: more than the AC output when discharging, less when charging."""
        if self.power_w >= 0:
            return self.power_w / self.efficiency
        return self.power_w * self.efficiency

    def command(self, setpoint_w: float) -> None:
        clipped = max(-self.max_power_w, min(self.max_power_w, setpoint_w))
        self.setpoint_w = clipped
        self._commands.append((self._now_s + self.dead_time_s, clipped))

    def step(self, dt_s: float) -> float:
        self._now_s += dt_s
        while self._commands and self._commands[0][0] <= self._now_s:
            self._effective_setpoint_w = self._commands.popleft()[1]
        if self.fault or not self.running:
            target_w = 0.0
        elif self.grid_forming:
            target_w = max(-self.max_power_w, min(self.max_power_w, self.island_demand_w))
            self.power_w = target_w  # a grid-forming inverter follows the load instantly
            return self.power_w
        else:
            target_w = self._effective_setpoint_w
        if self.time_constant_s > 0:
            alpha = 1.0 - math.exp(-dt_s / self.time_constant_s)
            new_w = self.power_w + alpha * (target_w - self.power_w)
        else:
            new_w = target_w
        if self.ramp_w_per_s is not None:
            step_w = self.ramp_w_per_s * dt_s
            new_w = max(self.power_w - step_w, min(self.power_w + step_w, new_w))
        self.power_w = new_w
        return new_w
