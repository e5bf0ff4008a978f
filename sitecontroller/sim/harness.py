"""The in-process, faster-than-real-time mode: a whole node on the simulated plant and a SimClock.

The production daemon's own fast and slow steps run; only the waiting between them is replaced by
advancing the clock, so an hour of behaviour takes a moment and no test sleeps.
"""

from __future__ import annotations

from pathlib import Path

from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.runtime.daemon import Daemon
from sitecontroller.sim.coupling import DirectDeviceFactory, SimNodeDevices
from sitecontroller.sim.site import SitePlant

# Half a fast-loop period: the plant moves between ticks as it does in real time.
PLANT_STEPS_PER_TICK = 2


class SimulatedNode:
    def __init__(self, config: SiteConfig, state_dir: Path, clock: SimClock | None = None) -> None:
        self.clock = clock or SimClock()
        self.site = SitePlant(config.simulation, [config.identity.node_id])
        factory = DirectDeviceFactory(self.site, config.identity.node_id)
        self.daemon = Daemon(config, factory, state_dir, self.clock)
        assert factory.devices is not None
        self.devices: SimNodeDevices = factory.devices
        self.plant = self.devices.plant
        self._fast_s = config.loops.fast_loop_s
        self._ticks_per_slow = max(1, round(config.loops.slow_cycle_s / self._fast_s))
        self._tick = 0

    async def tick(self) -> None:
        """One fast-loop period: plant physics, device polls, the fast step (and the slow one when due)."""
        step_s = self._fast_s / PLANT_STEPS_PER_TICK
        for _ in range(PLANT_STEPS_PER_TICK):
            self.clock.advance(step_s)
            self.site.step(step_s)
        self.devices.poll()
        if self._tick % self._ticks_per_slow == 0:
            await self.daemon.slow_step()
        await self.daemon.fast_step()
        self._tick += 1

    async def advance(self, duration_s: float) -> None:
        for _ in range(round(duration_s / self._fast_s)):
            await self.tick()

    async def run_until(self, condition: object, timeout_s: float) -> float:
        """Tick until `condition()` is true; returns the simulated seconds it took."""
        start_s = self.clock.monotonic()
        while not condition():  # type: ignore[operator]
            if self.clock.monotonic() - start_s > timeout_s:
                raise TimeoutError(f"condition not met within {timeout_s} s of simulated time")
            await self.tick()
        return self.clock.monotonic() - start_s
