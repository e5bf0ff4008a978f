from __future__ import annotations

from collections.abc import Callable

import pytest

from masterController.control.modes.self_consumption import SelfConsumption
from masterController.control.snapshot import SiteSnapshot
from sitecontroller.config.control import SelfConsumptionConfig, SiteLimitsConfig

Snap = Callable[..., SiteSnapshot]


def closed_loop(ctrl: SelfConsumption, snap: Snap, net_w: float, cycles: int, **kw: float) -> list[float]:
    """Battery delivers its setpoint within the cycle: grid = net - battery."""
    battery_w = 0.0
    state = ctrl.start(snap(grid_power_w=net_w, battery_power_w=0.0, **kw))
    out = []
    for k in range(cycles):
        s = snap(now_s=float(k), grid_power_w=net_w - battery_w, battery_power_w=battery_w, **kw)
        decision, state = ctrl.decide(s, state)
        battery_w = decision.power_w
        out.append(battery_w)
    return out


def test_tracks_zero_grid_for_import_and_export(snap: Snap) -> None:
    ctrl = SelfConsumption(SelfConsumptionConfig(), SiteLimitsConfig())
    assert closed_loop(ctrl, snap, 12_000.0, 5)[-1] == pytest.approx(12_000.0)
    assert closed_loop(ctrl, snap, -8_000.0, 5)[-1] == pytest.approx(-8_000.0)


def test_configurable_grid_setpoint(snap: Snap) -> None:
    ctrl = SelfConsumption(SelfConsumptionConfig(grid_setpoint_w=1_000.0), SiteLimitsConfig())
    assert closed_loop(ctrl, snap, 12_000.0, 5)[-1] == pytest.approx(11_000.0)


def test_soc_reserve_reached_stops_discharge_but_still_charges(snap: Snap) -> None:
    ctrl = SelfConsumption(SelfConsumptionConfig(backup_reserve_soc_pct=20.0), SiteLimitsConfig())
    state = ctrl.start(snap())
    decision, state = ctrl.decide(snap(now_s=1.0, soc_pct=20.0, grid_power_w=10_000.0), state)
    assert decision.power_w == 0.0
    assert "reserve" in decision.reason
    assert closed_loop(ctrl, snap, -5_000.0, 5, soc_pct=20.0)[-1] == pytest.approx(-5_000.0)


def test_full_battery_does_not_charge(snap: Snap) -> None:
    ctrl = SelfConsumption(SelfConsumptionConfig(), SiteLimitsConfig(soc_max_pct=95.0))
    assert closed_loop(ctrl, snap, -5_000.0, 5, soc_pct=95.0)[-1] == 0.0


def test_grid_service_reserve_and_response_are_left_alone(snap: Snap) -> None:
    ctrl = SelfConsumption(SelfConsumptionConfig(), SiteLimitsConfig())
    # 40 kW of 50 kW discharge is reserved: the baseline gets at most 10 kW.
    assert max(closed_loop(ctrl, snap, 30_000.0, 5, reserve_discharge_w=40_000.0)) == pytest.approx(10_000.0)
    # A 5 kW FCR response shows up at the meter; the baseline must not counteract it.
    state = ctrl.start(snap(grid_power_w=-5_000.0, battery_power_w=5_000.0, service_power_w=5_000.0))
    decision, _ = ctrl.decide(
        snap(now_s=1.0, grid_power_w=-5_000.0, battery_power_w=5_000.0, service_power_w=5_000.0), state
    )
    assert decision.power_w == pytest.approx(0.0)


def test_invalid_meter_means_zero(snap: Snap) -> None:
    ctrl = SelfConsumption(SelfConsumptionConfig(), SiteLimitsConfig())
    decision, _ = ctrl.decide(snap(now_s=1.0, grid_power_w=9e9, meter_valid=False), ctrl.start(snap()))
    assert decision.power_w == 0.0 and "invalid" in decision.reason


def test_small_setpoints_let_nodes_sleep(snap: Snap) -> None:
    ctrl = SelfConsumption(SelfConsumptionConfig(sleep_below_w=500.0), SiteLimitsConfig())
    decision, _ = ctrl.decide(snap(now_s=1.0, grid_power_w=100.0), ctrl.start(snap()))
    assert decision.nodes_may_sleep
