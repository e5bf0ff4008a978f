"""`simulate`: run one node in real time on the simulated plant, behind the driver interfaces."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import Clock, SystemClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.runtime.daemon import Daemon, NodeDevices
from sitecontroller.safety.monitor import Expected
from sitecontroller.sim.coupling import SimInverterDriver, SimNodeDevices
from sitecontroller.sim.site import SitePlant

log = logging.getLogger(__name__)

# The plant moves and the devices are read at the fast-loop rate, as real drivers poll.
PLANT_PERIOD_S = 0.1


class PlantStepper:
    """Advances the physics with the wall clock (real time) and lets the devices report."""

    def __init__(self, site: SitePlant, devices: SimNodeDevices, clock: Clock) -> None:
        self._site = site
        self._devices = devices
        self._clock = clock

    async def run(self) -> None:
        last_s = self._clock.monotonic()
        while True:
            self._devices.poll()
            await asyncio.sleep(PLANT_PERIOD_S)
            now_s = self._clock.monotonic()
            self._site.step(now_s - last_s)
            last_s = now_s


def build_sim_node(config: SiteConfig, state_dir: Path, clock: Clock) -> tuple[Daemon, SimNodeDevices]:
    node_id = config.identity.node_id
    site = SitePlant(config.simulation, [node_id])
    store = DataStore(clock)
    devices = SimNodeDevices(site, node_id, store)
    node_devices = NodeDevices(
        inverter=SimInverterDriver(devices),
        services=[PlantStepper(site, devices, clock)],
        expected=Expected(grid_meter=True, inputs=True),
    )
    return Daemon(config, node_devices, state_dir, clock, store), devices


async def simulate(config: SiteConfig, state_dir: Path, duration_s: float | None) -> int:
    daemon, _ = build_sim_node(config, state_dir, SystemClock())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.request_stop)
    if duration_s is not None:
        loop.call_later(duration_s, daemon.request_stop)
    return await daemon.run()
