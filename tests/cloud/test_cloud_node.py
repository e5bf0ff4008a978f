"""The cloud link inside the daemon: telemetry carries the node's own readings, and direct methods
reach its state machine and mode manager (the real NodeCommands, not a stand-in)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from cloudtest_support import Hub, async_wait_until, cloud_config

from sitecontroller.config.site import SiteConfig
from sitecontroller.sim.harness import SimulatedNode


def with_cloud(config: SiteConfig, hub: Hub, tmp_path: Path) -> SiteConfig:
    cloud = cloud_config(hub, tmp_path, telemetry_interval_s=1.0)
    features = config.features.model_copy(update={"CLOUD": True, "SCADA": False})
    scada = config.scada.model_copy(update={"enabled": False})
    return config.model_copy(update={"cloud": cloud, "features": features, "scada": scada})


async def test_daemon_telemetry_and_methods_through_the_real_sdk(
    single_node_config: SiteConfig, hub: Hub, tmp_path: Path
) -> None:
    node = SimulatedNode(with_cloud(single_node_config, hub, tmp_path), tmp_path / "state")
    await node.advance(3.0)
    assert node.daemon.cloud is not None
    link = asyncio.create_task(node.daemon.cloud.run())
    try:
        assert await async_wait_until(lambda: node.daemon.status()["cloud"]["state"] == "connected", 20.0)
        await node.advance(2.0)
        assert await async_wait_until(lambda: bool(hub.emulator.records()), 20.0)

        def call(name: str, payload: Any) -> tuple[int, Any]:
            return hub.emulator.invoke_method(name, payload, 15.0)

        status, body = await asyncio.to_thread(call, "GoToState_Idling", None)
        assert status == 200, body
        await node.advance(2.0)
        assert node.daemon.status()["state"] == "Sleep"
        status, body = await asyncio.to_thread(call, "GoToMode_ChargeOnly", {})
        assert (status, node.daemon.modes.mode.value) == (200, "charge_only")
        status, body = await asyncio.to_thread(call, "GoToMode_GridForming", None)
        assert status == 409  # backup is not enabled on this site
        status, body = await asyncio.to_thread(call, "ResetErrors", None)
        assert status == 409  # not in Error
    finally:
        link.cancel()
        await asyncio.gather(link, return_exceptions=True)
    spots = [r for r in hub.emulator.records() if r.get("type") == "SC_Spot_10s"]
    assert spots, [r.get("type") for r in hub.emulator.records()]
    record = json.dumps(spots[-1])
    assert '"bms"' in record and '"inverter"' in record and "sim-node-1" in record
