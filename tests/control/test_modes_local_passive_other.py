from __future__ import annotations

from collections.abc import Callable

import pytest

from masterController.control.mode_manager import ModeCommandError, ModeManager
from masterController.control.modes.cost_saving import CostSaving, price_at
from masterController.control.modes.load_matching import LoadMatching
from masterController.control.modes.passive import Passive
from masterController.control.snapshot import SiteSnapshot
from sitecontroller.config.control import (
    ControlConfig,
    CostSavingConfig,
    LoadMatchingConfig,
    LocalControlConfig,
    ModeName,
    SiteLimitsConfig,
)

Snap = Callable[..., SiteSnapshot]
T0 = 1_767_225_600.0


def test_local_setpoint_holds_with_heartbeat_and_lapses_without(snap: Snap) -> None:
    m = ModeManager(
        ControlConfig(local_control=LocalControlConfig(heartbeat_timeout_s=10.0)), ModeName.LOCAL_CONTROL
    )
    assert m.step(snap(now_s=0.0)).decision.power_w == 0.0  # nothing set yet
    m.local_setpoint(6_000.0, now_s=1.0)
    for t in (5.0, 10.0):
        m.local_heartbeat(t)
        assert m.step(snap(now_s=t + 1.0)).decision.power_w == 6_000.0
    out = m.step(snap(now_s=21.5)).decision  # heartbeat lost
    assert out.power_w == 0.0 and "heartbeat" in out.reason
    m.local_heartbeat(22.0)  # a returning heartbeat alone does not restart power
    assert m.step(snap(now_s=23.0)).decision.power_w == 0.0
    with pytest.raises(ModeCommandError):
        m.local_setpoint(float("inf"), 24.0)


def test_passive_is_zero(snap: Snap) -> None:
    decision, _ = Passive().decide(snap(grid_power_w=30_000.0), None)
    assert decision.power_w == 0.0 and decision.nodes_may_sleep


def test_load_matching_follows_the_load_and_never_charges(snap: Snap) -> None:
    ctrl = LoadMatching(LoadMatchingConfig(match_fraction=0.5), SiteLimitsConfig())
    assert ctrl.decide(snap(load_power_w=20_000.0), None)[0].power_w == 10_000.0
    assert ctrl.decide(snap(load_power_w=-3_000.0), None)[0].power_w == 0.0
    assert ctrl.decide(snap(load_power_w=200_000.0), None)[0].power_w == 50_000.0


def test_cost_saving_charges_cheap_covers_load_when_expensive_and_stores_pv_surplus(snap: Snap) -> None:
    params = CostSavingConfig()  # 0.10 until 07:00, 0.30 until 22:00, then 0.10
    assert price_at(params.prices, 3 * 3600.0) == 0.10
    assert price_at(params.prices, 12 * 3600.0) == 0.30
    ctrl = CostSaving(params, SiteLimitsConfig(), 0)
    state = ctrl.start(snap())
    decision, state = ctrl.decide(snap(now_s=1.0, wall_s=T0 + 3 * 3600.0), state)
    assert decision.power_w == -params.charge_power_w

    def settle(ctrl: CostSaving, net_w: float, hour: float) -> float:
        state = ctrl.start(snap(now_s=1.0))
        battery_w = 0.0
        for k in range(2, 7):
            s = snap(now_s=float(k), wall_s=T0 + hour * 3600.0, grid_power_w=net_w - battery_w,
                     battery_power_w=battery_w)  # fmt: skip
            decision, state = ctrl.decide(s, state)
            battery_w = decision.power_w
        return battery_w

    assert settle(ctrl, 8_000.0, 12.0) == pytest.approx(8_000.0)  # expensive: cover load
    assert settle(ctrl, -5_000.0, 12.0) == pytest.approx(-5_000.0)  # store PV surplus
    mid = CostSaving(CostSavingConfig(discharge_above_price=0.35), SiteLimitsConfig(), 0)
    assert settle(mid, 8_000.0, 12.0) == 0.0  # mid price: never discharge
