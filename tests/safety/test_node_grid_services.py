"""Grid services run in the node's fast loop on the measured frequency, on top of the mode's baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitecontroller.config.site import SiteConfig
from sitecontroller.sim.harness import SimulatedNode


def with_fcrd_up(config: SiteConfig, capacity_w: float) -> SiteConfig:
    services = config.control.grid_services
    fcrd_up = services.fcrd_up.model_copy(
        update={"enabled": True, "capacity_w": capacity_w, "energy_wh": 8_000.0}
    )
    grid = services.model_copy(update={"fcrd_up": fcrd_up})
    control = config.control.model_copy(update={"grid_services": grid})
    return config.model_copy(update={"control": control})


async def test_fcrd_up_activates_in_the_fast_loop_and_the_mode_does_not_fight_it(
    single_node_config: SiteConfig, tmp_path: Path
) -> None:
    node = SimulatedNode(with_fcrd_up(single_node_config, 3_000.0), tmp_path)
    await node.advance(30.0)  # Run, the BMS limit recovered, self-consumption settled
    baseline_w = node.daemon.setpoint_w
    dip_at_s = node.site.t_s
    node.site.grid.profile = lambda t_s: 49.5 if t_s >= dip_at_s else 50.0
    await node.tick()
    assert node.daemon.core.frequency_offset_w > 0.0  # first tick after the dip already responds
    await node.advance(7.5)
    status = node.daemon.status()
    assert status["frequency_response_w"] == 3_000.0  # full FCR-D activation at 49.5 Hz
    # The baseline stays where it was: self-consumption sees the service power and leaves it alone.
    assert node.daemon.setpoint_w - baseline_w == pytest.approx(3_000.0, abs=150.0)
