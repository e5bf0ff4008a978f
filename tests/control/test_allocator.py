from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from masterController.control.allocator import NodeState, SiteLimits, allocate, split_reactive
from sitecontroller.config.control import SiteLimitsConfig

OPEN = SiteLimits(min_power_w=-1e9, max_power_w=1e9)


def node(
    node_id: str, soc: float, limit_w: float = 10_000.0, capacity_wh: float = 50_000.0, **kw: bool
) -> NodeState:
    return NodeState(node_id, soc, limit_w, limit_w, capacity_wh, **kw)


nodes_strategy = st.lists(
    st.builds(
        NodeState,
        node_id=st.text("abcdef", min_size=1, max_size=4),
        soc_pct=st.floats(0.0, 100.0),
        max_discharge_w=st.floats(0.0, 50_000.0),
        max_charge_w=st.floats(0.0, 50_000.0),
        capacity_wh=st.floats(1_000.0, 200_000.0),
        online=st.booleans(),
        sleeping=st.booleans(),
        healthy=st.booleans(),
    ),
    min_size=1,
    max_size=16,
    unique_by=lambda n: n.node_id,
)
limits_strategy = st.tuples(st.floats(-500_000.0, 0.0), st.floats(0.0, 500_000.0)).map(
    lambda w: SiteLimits(min_power_w=w[0], max_power_w=w[1], soc_floor_pct=5.0, soc_ceiling_pct=95.0)
)


@settings(max_examples=300, deadline=None)
@given(st.floats(-1_000_000.0, 1_000_000.0), nodes_strategy, limits_strategy, st.booleans())
def test_allocation_properties(
    request_w: float, nodes: list[NodeState], limits: SiteLimits, allow_sleep: bool
) -> None:
    result = allocate(request_w, nodes, limits, allow_sleep=allow_sleep)
    tol = 1e-6 * max(1.0, abs(request_w))
    by_id = {n.node_id: n for n in nodes}
    for share in result.nodes:
        n = by_id[share.node_id]
        assert -n.max_charge_w - tol <= share.power_w <= n.max_discharge_w + tol  # no node over its limit
        if not n.online or not n.healthy or n.sleeping:
            assert share.power_w == 0.0
        assert share.explanation
    total = sum(s.power_w for s in result.nodes)
    assert math.isclose(total, result.allocated_w, abs_tol=tol)
    # Site window (it contains 0 here): never exceeded.
    assert limits.min_power_w - tol <= result.allocated_w <= limits.max_power_w + tol
    # Never more than asked, never the opposite direction.
    assert result.allocated_w * request_w >= -tol
    assert abs(result.allocated_w) <= abs(request_w) + tol
    # Nothing dropped silently.
    assert result.clipped_w == pytest.approx(request_w - result.allocated_w, abs=tol)
    if abs(result.clipped_w) > tol:
        assert result.clip_reason
    # Conservation when feasible.
    discharge = request_w > 0
    awake = [n for n in nodes if n.online and n.healthy and not n.sleeping]
    capacity = sum(n.max_discharge_w if discharge else n.max_charge_w for n in awake)
    if limits.min_power_w <= request_w <= limits.max_power_w and abs(request_w) <= capacity:
        assert result.allocated_w == pytest.approx(request_w, rel=1e-9, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.floats(-100_000.0, 100_000.0), nodes_strategy)
def test_allocation_is_deterministic_and_order_independent(request_w: float, nodes: list[NodeState]) -> None:
    a = allocate(request_w, nodes, OPEN)
    b = allocate(request_w, list(reversed(nodes)), OPEN)
    assert {s.node_id: s.power_w for s in a.nodes} == pytest.approx({s.node_id: s.power_w for s in b.nodes})
    assert a.wake == b.wake


def test_discharge_is_shared_by_energy_above_the_floor_and_socs_converge() -> None:
    socs = {"a": 90.0, "b": 50.0, "c": 30.0}
    capacity_wh = 50_000.0
    limits = SiteLimits(min_power_w=-1e9, max_power_w=1e9, soc_floor_pct=10.0, soc_ceiling_pct=95.0)
    first = allocate(12_000.0, [node(k, v) for k, v in socs.items()], limits)
    assert first.power_of("a") > first.power_of("b") > first.power_of("c") > 0
    assert first.power_of("a") / first.power_of("c") == pytest.approx(80.0 / 20.0)
    for _ in range(3 * 3600):  # three hours of 1 s cycles, discharging then charging
        result = allocate(12_000.0, [node(k, v) for k, v in socs.items()], limits)
        for k in socs:
            socs[k] -= result.power_of(k) / capacity_wh / 36.0  # W for 1 s in % of 50 kWh
    spread_discharge = max(socs.values()) - min(socs.values())
    assert spread_discharge < 0.5 * (90.0 - 30.0)
    for _ in range(3 * 3600):
        result = allocate(-12_000.0, [node(k, v) for k, v in socs.items()], limits)
        for k in socs:
            socs[k] -= result.power_of(k) / capacity_wh / 36.0
    assert max(socs.values()) - min(socs.values()) < spread_discharge


def test_node_limits_cap_and_the_rest_is_reshared() -> None:
    result = allocate(15_000.0, [node("a", 90.0, limit_w=2_000.0), node("b", 50.0), node("c", 50.0)], OPEN)
    assert result.power_of("a") == 2_000.0
    assert result.power_of("b") == pytest.approx(6_500.0)
    assert "limit" in result.nodes[0].explanation


def test_sleeping_nodes_are_woken_only_when_needed() -> None:
    nodes = [node("a", 50.0), node("b", 80.0, sleeping=True), node("c", 60.0, sleeping=True)]
    small = allocate(8_000.0, nodes, OPEN)
    assert small.wake == () and small.power_of("a") == 8_000.0
    big = allocate(15_000.0, nodes, OPEN)
    assert big.wake == ("b",)  # highest SoC first for discharge
    assert big.allocated_w == 10_000.0 and big.clipped_w == 5_000.0
    assert "waiting for woken nodes" in big.clip_reason
    charge = allocate(-15_000.0, nodes, OPEN)
    assert charge.wake == ("c",)  # lowest SoC first for charge


def test_offline_and_unhealthy_nodes_get_nothing_and_infeasible_is_reported() -> None:
    nodes = [node("a", 50.0), node("b", 50.0, online=False), node("c", 50.0, healthy=False)]
    result = allocate(25_000.0, nodes, OPEN)
    assert result.power_of("b") == result.power_of("c") == 0.0
    assert result.allocated_w == 10_000.0 and result.clipped_w == 15_000.0
    assert "power limits" in result.clip_reason
    assert result.nodes[1].explanation.startswith("offline")


def test_grid_connection_and_fuse_limits_clip_the_site() -> None:
    cfg = SiteLimitsConfig(grid_import_limit_w=100_000.0, grid_export_limit_w=5_000.0, fuse_current_a=25.0)
    limits = SiteLimits.from_grid(cfg, grid_without_battery_w=2_000.0)  # fuse 25 A x 230 V x 3 = 17.25 kW
    assert limits.max_power_w == pytest.approx(7_000.0)
    assert limits.min_power_w == pytest.approx(2_000.0 - 17_250.0)
    result = allocate(20_000.0, [node("a", 50.0), node("b", 50.0)], limits)
    assert result.allocated_w == pytest.approx(7_000.0)
    assert "export" in result.clip_reason


def test_allow_sleep_concentrates_power_on_the_best_nodes() -> None:
    nodes = [node("a", 40.0), node("b", 70.0), node("c", 60.0)]
    result = allocate(6_000.0, nodes, OPEN, allow_sleep=True)
    assert result.power_of("b") == 6_000.0
    assert set(result.may_sleep) == {"a", "c"}
    idle = allocate(0.0, nodes, OPEN, allow_sleep=True)
    assert set(idle.may_sleep) == {"a", "b", "c"}


def test_reactive_power_is_shared_by_rating_among_awake_nodes() -> None:
    nodes = [
        node("a", 50.0, limit_w=10_000.0),
        node("b", 50.0, limit_w=30_000.0),
        node("c", 50.0, sleeping=True),
    ]
    shares = split_reactive(8_000.0, nodes)
    assert shares == pytest.approx({"a": 2_000.0, "b": 6_000.0, "c": 0.0})


def test_an_empty_grid_connection_window_allocates_nothing_and_says_why() -> None:
    limits = SiteLimits(min_power_w=60_000.0, max_power_w=40_000.0)  # net load far beyond the import limit
    result = allocate(50_000.0, [node("a", 50.0)], limits)
    assert result.allocated_w == 0.0 and result.clipped_w == 50_000.0
    assert "window empty" in result.clip_reason
