"""The local operator's commands over the node's HTTP port, as `sitecontroller local` sends them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sitecontroller.cli import main
from sitecontroller.config.site import SiteConfig
from sitecontroller.runtime.status_http import StatusServer
from sitecontroller.sim.harness import SimulatedNode


def with_port(config: SiteConfig, port: int) -> SiteConfig:
    return config.model_copy(update={"status": config.status.model_copy(update={"port": port})})


async def cli(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


async def test_local_state_mode_setpoint_and_heartbeat(
    single_node_config: SiteConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node = SimulatedNode(with_port(single_node_config, 0), tmp_path)
    await node.advance(20.0)  # Run, the BMS limit recovered
    server = node.daemon.status_server
    await server.start()
    url = f"http://127.0.0.1:{server.port}"
    try:
        assert await cli("local", "--url", url, "mode", "local_control") == 0
        assert await cli("local", "--url", url, "setpoint", "1500") == 0
        await node.advance(2.0)
        assert node.daemon.status()["requested_w"] == 1500.0
        timeout_s = node.daemon.config.control.local_control.heartbeat_timeout_s
        await node.advance(timeout_s + 2.0)  # no heartbeat: the manual setpoint lapses to 0 W
        assert node.daemon.status()["requested_w"] == 0.0
        assert await cli("local", "--url", url, "setpoint", "-800") == 0
        for _ in range(3):
            assert await cli("local", "--url", url, "heartbeat") == 0
            await node.advance(timeout_s / 2)
        assert node.daemon.status()["requested_w"] == -800.0
        assert await cli("local", "--url", url, "state", "Sleep") == 0
        await node.advance(2.0)
        assert node.daemon.status()["state"] == "Sleep"
        assert await cli("local", "--url", url, "state", "Overdrive") == 1  # unknown state: 400
        assert await cli("local", "--url", url, "reset") == 1  # not in Error: 409
    finally:
        await server.close()
    assert "refused (409)" in capsys.readouterr().err


def test_local_commands_only_from_this_machine() -> None:
    server = StatusServer(dict, "127.0.0.1", 0, lambda name, arg: pytest.fail("must not run"))  # type: ignore[arg-type]
    status, body = server._route("POST", "/api/local/reset", b"", "192.0.2.7")
    assert status == 403 and "this machine only" in str(body["error"])
    assert server._route("GET", "/api/local/reset", b"", "127.0.0.1")[0] == 405
    assert server._route("POST", "/api/local/reset", b"{not json", "127.0.0.1")[0] == 400


async def test_mode_parameters_are_taken_or_refused_never_ignored(
    single_node_config: SiteConfig, tmp_path: Path
) -> None:
    node = SimulatedNode(with_port(single_node_config, 0), tmp_path)
    await node.advance(20.0)
    commands = node.daemon.commands
    schedule = [{"start_s": 0.0, "duration_s": 86_400.0, "power_w": -1_200.0, "daily": True}]
    result = commands.request_mode("external_control", "cloud", {"schedule": schedule})
    assert result.status == 200, result.message
    await node.advance(3.0)
    assert node.daemon.status()["requested_w"] == -1_200.0  # the schedule came with the command
    refused = commands.request_mode("cost_saving", "cloud", {"price_schedule": {"0": 0.1}})
    assert refused.status == 400 and "control.cost_saving" in refused.message
    assert node.daemon.modes.mode.value == "external_control"  # a refused command changes nothing
    bad = commands.request_mode("external_control", "cloud", {"schedule": [{"start_s": -5}]})
    assert bad.status == 400
