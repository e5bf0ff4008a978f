"""`simulate`: one node in real time on the simulated plant.

`emulated` (the default) reaches the battery over CAN and the inverter and grid meter over Modbus
TCP through the production drivers; `direct` couples every device in-process (the node's own cost,
without protocol stacks)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import SystemClock
from sitecontroller.runtime.daemon import Daemon, DeviceFactory
from sitecontroller.sim.coupling import DirectDeviceFactory
from sitecontroller.sim.emulated_site import EmulatedNode
from sitecontroller.sim.site import SitePlant

DeviceMode = Literal["emulated", "direct"]


@contextlib.asynccontextmanager
async def _devices(
    config: SiteConfig, site: SitePlant, clock: SystemClock, mode: DeviceMode
) -> AsyncIterator[tuple[SiteConfig, DeviceFactory]]:
    if mode == "direct":
        yield config, DirectDeviceFactory(site, config.identity.node_id, clock)
        return
    emulated = EmulatedNode(config, site, clock)
    node_config = await emulated.start()
    try:
        yield node_config, emulated.device_factory
    finally:
        await emulated.stop()


async def simulate(config: SiteConfig, state_dir: Path, duration_s: float | None, mode: DeviceMode) -> int:
    clock = SystemClock()
    site = SitePlant(config.simulation, [config.identity.node_id])
    async with _devices(config, site, clock, mode) as (node_config, factory):
        daemon = Daemon(node_config, factory, state_dir, clock)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, daemon.request_stop)
        if duration_s is not None:
            loop.call_later(duration_s, daemon.request_stop)
        return await daemon.run()
