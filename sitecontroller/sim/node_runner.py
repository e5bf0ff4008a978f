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

from sitecontroller.cloud.local import start_local_cloud
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


@contextlib.asynccontextmanager
async def _cloud(config: SiteConfig, state_dir: Path, local: bool) -> AsyncIterator[SiteConfig]:
    """With `local`: Mosquitto and the hub emulator on this machine, and the node pointed at them."""
    if not local:
        yield config
        return
    connection_string, ca_file, stop = await start_local_cloud(
        state_dir / "local-cloud", config.identity.node_id
    )
    cloud = config.cloud.model_copy(
        update={"enabled": True, "connection_string": connection_string, "server_ca_file": str(ca_file)}
    )
    features = config.features.model_copy(update={"CLOUD": True})
    try:
        yield config.model_copy(update={"cloud": cloud, "features": features})
    finally:
        await stop()


async def simulate(
    config: SiteConfig, state_dir: Path, duration_s: float | None, mode: DeviceMode, local_cloud: bool = False
) -> int:
    async with _cloud(config, state_dir, local_cloud) as config_with_cloud:
        return await _simulate(config_with_cloud, state_dir, duration_s, mode)


async def _simulate(config: SiteConfig, state_dir: Path, duration_s: float | None, mode: DeviceMode) -> int:
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
