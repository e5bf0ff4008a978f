"""Each safety trip on the simulated node: 0 W within one fast-loop tick, state Error, error
persisted and visible in status. Time is simulated; nothing sleeps."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from sitecontroller.config.site import SiteConfig
from sitecontroller.sim.harness import SimulatedNode

FAST_S = 0.1


async def running_node(config: SiteConfig, state_dir: Path) -> SimulatedNode:
    node = SimulatedNode(config, state_dir)
    node.site.load_offset_w = 9_000.0  # a load the battery discharges into: the setpoint is far from 0
    await node.advance(5.0)
    assert node.daemon.core.state.value == "Run"
    assert node.daemon.setpoint_w > 1_000.0
    return node


def cell_under_voltage(node: SimulatedNode) -> None:
    node.plant.battery.racks[0].cell_voltage_offset_v = -0.6


def cell_over_voltage(node: SimulatedNode) -> None:
    node.plant.battery.racks[0].cell_voltage_offset_v = +0.5


def over_temperature(node: SimulatedNode) -> None:
    node.plant.battery.racks[0].temp_offset_c = 45.0


def estop(node: SimulatedNode) -> None:
    node.devices.estop_pressed = True


@pytest.mark.parametrize(
    ("inject", "error_id"),
    [
        (cell_under_voltage, "SC-CELL-UV"),
        (cell_over_voltage, "SC-CELL-OV"),
        (over_temperature, "SC-CELL-OT"),
        (estop, "SC-ESTOP"),
    ],
)
async def test_trip_zeroes_power_within_one_tick(
    single_node_config: SiteConfig, tmp_path: Path, inject: Callable[[SimulatedNode], None], error_id: str
) -> None:
    node = await running_node(single_node_config, tmp_path)
    inject(node)
    await node.tick()  # the next fast-loop tick sees the fault
    assert node.daemon.setpoint_w == 0.0
    assert node.plant.inverter.setpoint_w == 0.0  # what reached the inverter
    status = node.daemon.status()
    assert status["state"] == "Error"
    assert error_id in {e["id"] for e in status["errors"]}  # type: ignore[union-attr]
    persisted = json.loads((tmp_path / "errors.json").read_text())
    assert error_id in {e["id"] for e in persisted}


async def test_stale_bms_trips_within_its_timeout(single_node_config: SiteConfig, tmp_path: Path) -> None:
    node = await running_node(single_node_config, tmp_path)
    node.devices.silent.add("bms")
    took_s = await node.run_until(lambda: node.daemon.setpoint_w == 0.0, timeout_s=30.0)
    timeout_s = single_node_config.bms.timeout_s
    assert timeout_s <= took_s <= timeout_s + FAST_S + 1e-9
    status = node.daemon.status()
    assert status["state"] == "Error"
    assert "SC-BMS-STALE" in {e["id"] for e in status["errors"]}  # type: ignore[union-attr]
    assert status["stale_sources"] == ["bms"]


async def test_inverter_not_answering_trips(single_node_config: SiteConfig, tmp_path: Path) -> None:
    node = await running_node(single_node_config, tmp_path)
    node.devices.silent.add("inverter")
    took_s = await node.run_until(lambda: node.daemon.core.state.value == "Error", timeout_s=30.0)
    assert took_s <= single_node_config.monitor.inverter_timeout_s + FAST_S + 1e-9
    assert node.daemon.setpoint_w == 0.0


async def test_trip_survives_restart_and_needs_reset(single_node_config: SiteConfig, tmp_path: Path) -> None:
    node = await running_node(single_node_config, tmp_path)
    estop(node)
    await node.tick()
    restarted = SimulatedNode(single_node_config, tmp_path)  # same state dir: a daemon restart
    await restarted.advance(3.0)
    status = restarted.daemon.status()
    assert status["state"] == "Error"
    assert restarted.daemon.setpoint_w == 0.0
    # The e-stop of the new plant is released, so the cause is clear; an operator resets.
    result = restarted.daemon.commands.reset_errors("local")
    assert result.status == 200
    await restarted.advance(3.0)
    assert restarted.daemon.status()["state"] == "Run"


async def test_reset_refused_while_cause_present(single_node_config: SiteConfig, tmp_path: Path) -> None:
    node = await running_node(single_node_config, tmp_path)
    estop(node)
    await node.advance(2.0)
    result = node.daemon.commands.reset_errors("cloud")
    assert result.status == 409
    assert "still present" in result.message
