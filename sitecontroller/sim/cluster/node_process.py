"""One node of the simulated cluster as its own OS process (started by the cluster simulator).

    python -m sitecontroller.sim.cluster.node_process --site NODE.json --state-dir DIR --feed ENDPOINT

It runs the production daemon and device factory: the inverter and grid meter are the plant
process's Modbus emulators (ports in NODE.json), the BMS is reached over CAN from a local BMS
emulator fed with the plant's battery state. Killing this process is the controller failing; the
battery and inverter go on existing in the plant process.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

import can

from sitecontroller.bms.binding import load_binding
from sitecontroller.config.loader import load_site
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import Clock, SystemClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import InputsReading, SensorReading
from sitecontroller.runtime.daemon import Daemon, DeviceContext, DeviceFactory, NodeDevices
from sitecontroller.runtime.hardware import hardware_devices
from sitecontroller.runtime.logging_setup import setup_logging
from sitecontroller.safety.monitor import Expected
from sitecontroller.sim.bms_emulator import BmsEmulator
from sitecontroller.sim.cluster.battery_feed import FeedSubscriber, RemoteBattery

TICK_S = 0.1


class LocalBench:
    """What the plant process cannot give over a wire: the BMS frames on this node's virtual CAN
    bus, the e-stop chain (closed) and the Pi's sensors."""

    def __init__(self, emulator: BmsEmulator, bus: can.BusABC, store: DataStore, clock: Clock) -> None:
        self._emulator = emulator
        self._bus = bus
        self._store = store
        self._clock = clock

    async def run(self) -> None:
        try:
            while True:
                self._emulator.send(self._emulator.frames_due(self._clock.monotonic()))
                self._store.put("inputs", InputsReading(estop_active=False))
                self._store.put("sensors", SensorReading({"pi_temp_c": 48.0, "humidity_pct": 40.0}))
                await asyncio.sleep(TICK_S)
        finally:
            self._bus.shutdown()


def node_devices(battery: RemoteBattery, feed_endpoint: str) -> DeviceFactory:
    def factory(ctx: DeviceContext) -> NodeDevices:
        devices = hardware_devices(ctx)
        bms = ctx.config.bms
        bus = can.Bus(interface="virtual", channel=bms.can.channel)
        emulator = BmsEmulator(load_binding(bms.type), lambda: battery, bus)
        devices.services.append(LocalBench(emulator, bus, ctx.store, ctx.clock))
        devices.services.append(FeedSubscriber(feed_endpoint, ctx.config.identity.node_id, battery))
        devices.expected = Expected(grid_meter=devices.expected.grid_meter, inputs=True)
        return devices

    return factory


async def run_node(config: SiteConfig, state_dir: Path, feed_endpoint: str) -> int:
    daemon = Daemon(config, node_devices(RemoteBattery(), feed_endpoint), state_dir, SystemClock())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.request_stop)
    return await daemon.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--feed", required=True)
    args = parser.parse_args(argv)
    config = load_site(args.site)
    log_cfg = config.logging
    setup_logging(log_cfg.level, args.state_dir / log_cfg.file, log_cfg.max_bytes, log_cfg.backups)
    return asyncio.run(run_node(config, args.state_dir, args.feed))


if __name__ == "__main__":
    sys.exit(main())
