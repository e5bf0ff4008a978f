"""The master's decision over node states: one site snapshot, the mode, and the allocator."""

from __future__ import annotations

import pytest

from masterController.control.mode_manager import ModeManager
from masterController.membership.node_state import NodeState
from sitecontroller.config.site import SiteConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.node.cluster_link import MasterDecision


def state(
    node_id: str, soc_pct: float, power_w: float = 0.0, grid_w: float | None = None, health: str = "ok"
) -> NodeState:
    return NodeState(node_id, soc_pct, power_w, 5_000.0, 5_000.0, "run", health, "test", 10_000.0, grid_w)


def test_self_consumption_over_the_cluster_uses_the_meter_owners_grid_power() -> None:
    config = SiteConfig()
    decide = MasterDecision(ModeManager(config.control), SimClock())
    # 6 kW import at the meter: the site discharges 6 kW in total, more from the fuller battery.
    nodes = {"a": state("a", 80.0, grid_w=6_000.0), "b": state("b", 40.0)}
    assert decide(nodes, 1.0) == {"a": 0.0, "b": 0.0}  # bumpless start from the 0 W delivered now
    shares = decide(nodes, 2.0)
    assert sum(shares.values()) == pytest.approx(6_000.0, rel=0.05)
    assert shares["a"] > shares["b"] > 0.0


def test_no_meter_no_invented_power_and_unhealthy_nodes_get_nothing() -> None:
    config = SiteConfig()
    decide = MasterDecision(ModeManager(config.control), SimClock())
    shares = decide({"a": state("a", 50.0), "b": state("b", 50.0, health="error")}, 1.0)
    assert shares["b"] == 0.0
    assert abs(shares["a"]) < 1.0
    assert decide({}, 2.0) == {}
