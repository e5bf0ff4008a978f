"""Leases, heartbeat and fallback on the SimClock: renewal while the heartbeat lives, fallback and alarm
when it stops (ramp to 0, hold, local mode), recovery when it resumes."""

from __future__ import annotations

from pathlib import Path

import pytest
from scada_site import ScadaSite, s32

from sitecontroller.config.scada import ScadaConfig
from sitecontroller.config.site import SiteConfig
from sitecontroller.scada.errors import SCADA_HEARTBEAT_LOST

EXTERNAL = 2


def heartbeat_lost(site: ScadaSite) -> bool:
    return site.node.daemon.errors.is_active(SCADA_HEARTBEAT_LOST)


async def beat(site: ScadaSite, seconds: float, every_s: float = 1.0) -> None:
    """SCADA alive: the heartbeat register changes every `every_s` of simulated time."""
    for _ in range(round(seconds / every_s)):
        site.beats += 1
        await site.write(110, site.beats)
        await site.run(every_s)


@pytest.fixture
async def commanded(site: ScadaSite) -> ScadaSite:
    await site.write(110, 1)
    await site.write(101, EXTERNAL)
    await site.write(103, *s32(4000))
    await beat(site, 4.0)
    assert site.inverter_w == pytest.approx(4000.0)
    return site


async def test_setpoint_is_renewed_while_the_heartbeat_lives(commanded: ScadaSite) -> None:
    await beat(commanded, 60.0)  # three lease lengths
    assert commanded.inverter_w == pytest.approx(4000.0)
    assert not heartbeat_lost(commanded)


async def test_heartbeat_loss_ramps_to_zero_with_an_alarm(commanded: ScadaSite) -> None:
    await commanded.run(5.5)
    assert heartbeat_lost(commanded)
    assert await commanded.read(39) == [1]  # fallback active
    await commanded.run(2.0)
    assert 0.0 < commanded.inverter_w < 4000.0  # ramping at 1000 W/s
    await commanded.run(5.0)
    assert commanded.inverter_w == pytest.approx(0.0)
    await commanded.run(60.0)  # held at 0 W, leases renewed
    assert commanded.inverter_w == pytest.approx(0.0)
    await commanded.write(110, 99)  # SCADA is back: alarm clears; it commands again
    await commanded.run(0.2)
    assert not heartbeat_lost(commanded)
    await commanded.write(103, *s32(2500))
    await commanded.run(5.0)
    assert commanded.inverter_w == pytest.approx(2500.0)


@pytest.mark.parametrize("fallback", ["hold", "local"])
async def test_other_fallbacks(single_node_config: SiteConfig, scada_config: ScadaConfig, tmp_path: Path,
                               fallback: str) -> None:
    config = scada_config.model_copy(update={"fallback": fallback})
    site = ScadaSite(single_node_config, config, tmp_path)
    await site.start()
    from pymodbus.client import AsyncModbusTcpClient

    site.client = AsyncModbusTcpClient("127.0.0.1", port=site.server.port, timeout=2, retries=0)
    await site.client.connect()
    try:
        await site.write(110, 1)
        await site.write(101, EXTERNAL)
        await site.write(103, *s32(-3000))
        await site.run(10.0)
        assert heartbeat_lost(site)
        if fallback == "hold":
            await site.run(60.0)
            assert site.inverter_w == pytest.approx(-3000.0)
        else:
            assert site.status()["mode"] == "self_consumption"
    finally:
        site.client.close()
        await site.stop()


async def test_without_heartbeat_a_setpoint_is_one_lease(site: ScadaSite) -> None:
    await site.write(101, EXTERNAL)
    await site.write(103, *s32(1500))
    await site.run(15.0)
    assert site.inverter_w == pytest.approx(1500.0)
    assert await site.read(38) == [1]
    await site.run(10.0)  # lease_s = 20: lapsed on the node, not renewed
    assert site.inverter_w == pytest.approx(0.0)
    assert await site.read(38) == [0]
    assert not heartbeat_lost(site)  # never armed: no alarm
