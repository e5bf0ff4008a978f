"""The daemon end to end: status over HTTP, shutdown to 0 W, sysinfo across restarts, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sitecontroller.cli import format_status, main
from sitecontroller.config.site import SiteConfig
from sitecontroller.runtime.status import ROLES, STATES
from sitecontroller.sim.harness import SimulatedNode

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = [
    "node_id",
    "state",
    "mode",
    "role",
    "term",
    "leader_id",
    "soc_pct",
    "battery_power_w",
    "setpoint_w",
    "grid_power_w",
    "frequency_hz",
    "charge_limit_w",
    "discharge_limit_w",
    "limiting_source",
    "errors",
    "uptime_s",
    "version",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_port(config: SiteConfig, port: int) -> SiteConfig:
    return config.model_copy(update={"status": config.status.model_copy(update={"port": port})})


async def test_shutdown_leaves_the_inverter_at_zero(single_node_config: SiteConfig, tmp_path: Path) -> None:
    node = SimulatedNode(with_port(single_node_config, 0), tmp_path)
    node.site.load_offset_w = 9_000.0
    await node.advance(5.0)
    assert node.plant.inverter.setpoint_w > 1_000.0
    node.daemon.request_stop()  # what the SIGTERM handler does
    assert await node.daemon.run() == 0
    assert node.plant.inverter.setpoint_w == 0.0
    assert node.daemon.setpoint_w == 0.0


async def test_status_document_over_http(single_node_config: SiteConfig, tmp_path: Path) -> None:
    node = SimulatedNode(with_port(single_node_config, 0), tmp_path)
    await node.advance(3.0)
    server = node.daemon.status_server
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.port}/api/status"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
        missing = await asyncio.to_thread(_status_code, f"http://127.0.0.1:{server.port}/nope")
    finally:
        await server.close()
    doc = json.loads(body)
    assert set(REQUIRED) <= set(doc)
    assert doc["state"] in STATES and doc["state"] == "Run"
    assert doc["role"] in ROLES and doc["role"] == "standalone"
    assert doc["node_id"] == "sim-node-1"
    assert isinstance(doc["errors"], list)
    assert missing == 404
    text = format_status(doc)
    assert "state Run" in text and "errors: none" in text


def _status_code(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code


async def test_sysinfo_survives_restarts(single_node_config: SiteConfig, tmp_path: Path) -> None:
    for boot in (1, 2):
        node = SimulatedNode(with_port(single_node_config, 0), tmp_path)
        await node.advance(2.0)
        node.daemon.request_stop()
        await node.daemon.run()
        saved = json.loads((tmp_path / "sysinfo.json").read_text())
        assert saved["boot_count"] == boot
        assert saved["firmware_version"] == node.daemon.status()["version"]
        assert saved["total_runtime_s"] >= 2.0 * boot


def test_status_command_reports_unreachable_node(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--url", f"http://127.0.0.1:{free_port()}/api/status"]) == 1
    assert "cannot read status" in capsys.readouterr().err


def test_simulate_runs_and_sigterm_stops_cleanly_at_zero(tmp_path: Path) -> None:
    """The README's main command, as a real process: Run within 30 s; SIGTERM → exit 0 at 0 W."""
    port = free_port()
    site = tmp_path / "site.json"
    base = (ROOT / "config" / "sim" / "single-node.json").read_text()
    site.write_text(
        base.replace('"port": 8080', f'"port": {port}').replace('"port": 15020', f'"port": {free_port()}')
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sitecontroller.cli",
            "simulate",
            "--site",
            str(site),
            "--state-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        state = _wait_for_state(f"http://127.0.0.1:{port}/api/status", "Run", deadline_s=30.0)
        assert state == "Run"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "stopped with the inverter commanded to 0 W" in output


def _wait_for_state(url: str, wanted: str, deadline_s: float) -> str | None:
    """Poll a real process's status page (bounded); this waits for a process to start, not for time."""
    end = time.monotonic() + deadline_s
    state = None
    while time.monotonic() < end:
        try:
            state = json.load(urllib.request.urlopen(url, timeout=2))["state"]
            if state == wanted:
                return state
        except OSError:
            pass
        time.sleep(0.1)
    return state
