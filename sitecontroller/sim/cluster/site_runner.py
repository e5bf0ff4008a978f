"""`simulate` for a cluster site: the plant in this process, every node in its own OS process.

This process owns the physics (each node's battery and inverter, PV, load, grid) and serves each
node's inverter, and the meter owner's grid meter, as Modbus emulators on loopback; it publishes
each battery's state for the node processes' BMS emulators. The site meter sees the sum of all
inverters. A node process that dies is started again after `restart_delay_s` (as systemd would),
and `RUN_DIR/nodes.json` always lists the live processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import SystemClock
from sitecontroller.runtime.atomic import atomic_write_text
from sitecontroller.sim.cluster.battery_feed import FeedPublisher
from sitecontroller.sim.device_emulators.factory import inverter_emulator, meter_emulator
from sitecontroller.sim.device_emulators.register_server import RegisterEmulator
from sitecontroller.sim.emulated_site import LOOPBACK, inverter_values, meter_values, on_inverter_command
from sitecontroller.sim.site import SitePlant

log = logging.getLogger(__name__)

PLANT_PERIOD_S = 0.1
STOP_TIMEOUT_S = 20.0


@dataclass
class NodeProcess:
    node_id: str
    site_file: Path
    state_dir: Path
    status_url: str
    process: subprocess.Popen[bytes] | None = None
    died_at_s: float | None = None


def node_configs(
    config: SiteConfig, inverter_ports: dict[str, int], meter_port: int | None
) -> dict[str, SiteConfig]:
    """Each node's site parameters: its own identity, ports and CAN channel; the first battery node
    owns the grid meter. Validated again, as a file written by hand would be."""
    data = config.model_dump(mode="json")
    for index, member in enumerate(data["cluster"]["members"]):
        member["scada_endpoint"] = f"{LOOPBACK}:{config.scada.port + index}"
    configs = {}
    for index, node_id in enumerate(inverter_ports):
        node = json.loads(json.dumps(data))
        node["identity"]["node_id"] = node_id
        node["status"]["port"] = config.status.port + index
        node["scada"]["port"] = config.scada.port + index
        node["bms"]["can"]["channel"] = f"{node_id}-can"
        node["inverter"]["link"].update(host=LOOPBACK, port=inverter_ports[node_id])
        grid = [m for m in node["meters"] if m["role"] == "grid"]
        if index == 0 and grid and meter_port is not None:
            grid[0]["link"].update(host=LOOPBACK, port=meter_port)
            node["meters"] = grid
        else:
            node["meters"] = []
        configs[node_id] = SiteConfig.from_data(node)
    return configs


class ClusterSimulation:
    def __init__(self, config: SiteConfig, run_dir: Path, restart_delay_s: float = 3.0) -> None:
        members = config.cluster.members
        if any(m.witness for m in members):
            raise ValueError("the cluster simulator runs battery nodes only; remove witness members")
        self.config = config
        self.run_dir = run_dir
        self.restart_delay_s = restart_delay_s
        self.clock = SystemClock()
        self.node_ids = [m.node_id for m in members]
        self.site = SitePlant(config.simulation, self.node_ids)
        self.inverters: dict[str, RegisterEmulator] = {}
        for node_id in self.node_ids:
            node = self.site.nodes[node_id]
            self.inverters[node_id] = inverter_emulator(
                config.inverter.type,
                lambda node=node: inverter_values(self.site, node),  # type: ignore[misc]
                node.inverter.command,
                node.inverter.max_power_w,
                config.inverter.link.unit,
                lambda name, node=node: on_inverter_command(node, name),  # type: ignore[misc]
            )
        grid = [m for m in config.meters if m.role == "grid"]
        self.meter = (
            meter_emulator(grid[0].type, lambda: meter_values(self.site), grid[0].link.unit) if grid else None
        )
        self.feed_endpoint = f"ipc://{run_dir.resolve()}/battery-feed.ipc"
        self.nodes: dict[str, NodeProcess] = {}
        self._stop = asyncio.Event()

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self, duration_s: float | None) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        ports = {node_id: await emu.start_tcp(LOOPBACK, 0) for node_id, emu in self.inverters.items()}
        meter_port = await self.meter.start_tcp(LOOPBACK, 0) if self.meter else None
        feed = FeedPublisher(self.feed_endpoint)
        for node_id, node_config in node_configs(self.config, ports, meter_port).items():
            node_dir = self.run_dir / node_id
            node_dir.mkdir(exist_ok=True)
            site_file = node_dir / "site.json"
            atomic_write_text(site_file, json.dumps(node_config.model_dump(mode="json"), indent=1))
            status = node_config.status
            url = f"http://{status.host}:{status.port}/api/status"
            self.nodes[node_id] = NodeProcess(node_id, site_file, node_dir, url)
        loop = asyncio.get_running_loop()
        if duration_s is not None:
            loop.call_later(duration_s, self.request_stop)
        try:
            for node in self.nodes.values():
                self._start(node)
            self._write_nodes()
            await self._plant_loop(feed)
        finally:
            await self._stop_nodes()
            feed.close()
            for emulator in [*self.inverters.values(), *([self.meter] if self.meter else [])]:
                await emulator.stop()
        return 0

    async def _plant_loop(self, feed: FeedPublisher) -> None:
        last_s = self.clock.monotonic()
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), PLANT_PERIOD_S)
            now_s = self.clock.monotonic()
            self.site.step(now_s - last_s)
            last_s = now_s
            for node_id, node in self.site.nodes.items():
                feed.publish(node_id, node.battery)
            self._supervise(now_s)

    def _supervise(self, now_s: float) -> None:
        changed = False
        for node in self.nodes.values():
            if node.process is not None and node.process.poll() is not None:
                log.warning(
                    "node %s exited (%s); restarting in %.0f s",
                    node.node_id,
                    node.process.returncode,
                    self.restart_delay_s,
                )
                node.process, node.died_at_s = None, now_s
                changed = True
            if (
                node.process is None
                and node.died_at_s is not None
                and now_s - node.died_at_s >= self.restart_delay_s
            ):
                self._start(node)
                changed = True
        if changed:
            self._write_nodes()

    def _start(self, node: NodeProcess) -> None:
        node.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sitecontroller.sim.cluster.node_process",
                "--site",
                str(node.site_file),
                "--state-dir",
                str(node.state_dir),
                "--feed",
                self.feed_endpoint,
            ],
            stdout=subprocess.DEVNULL,
            stderr=(node.state_dir / "stderr.log").open("ab"),
        )
        node.died_at_s = None
        log.info("node %s started (pid %d), status %s", node.node_id, node.process.pid, node.status_url)

    def _write_nodes(self) -> None:
        listing = [
            {"node_id": n.node_id, "pid": n.process.pid, "status_url": n.status_url}
            for n in self.nodes.values()
            if n.process is not None
        ]
        atomic_write_text(self.run_dir / "nodes.json", json.dumps(listing, indent=1))

    async def _stop_nodes(self) -> None:
        running = [
            n.process for n in self.nodes.values() if n.process is not None and n.process.poll() is None
        ]
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.error("node pid %d did not stop in %.0f s; killing it", process.pid, STOP_TIMEOUT_S)
                process.kill()


async def simulate_cluster(config: SiteConfig, run_dir: Path, duration_s: float | None) -> int:
    simulation = ClusterSimulation(config, run_dir)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, simulation.request_stop)
    return await simulation.run(duration_s)
