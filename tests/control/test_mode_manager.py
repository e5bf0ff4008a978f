from __future__ import annotations

from collections.abc import Callable

import pytest

from masterController.control.mode_manager import ModeCommandError, ModeManager
from masterController.control.snapshot import SiteSnapshot
from sitecontroller.config.control import BackupConfig, ControlConfig, GridLossConfig, ModeName

Snap = Callable[..., SiteSnapshot]


def test_mode_switch_validation() -> None:
    m = ModeManager(ControlConfig())
    assert m.mode is ModeName.SELF_CONSUMPTION
    with pytest.raises(ModeCommandError) as unknown:
        m.request_mode("turbo", "cloud")
    assert unknown.value.status == 400
    with pytest.raises(ModeCommandError) as no_backup:
        m.request_mode("backup", "cloud")
    assert no_backup.value.status == 409
    with pytest.raises(ModeCommandError) as remote_local:
        m.request_mode("local_control", "scada")
    assert remote_local.value.status == 409
    m.request_mode("local_control", "fallback")
    m.request_mode("peak_shaving", "scada")
    assert m.mode is ModeName.PEAK_SHAVING


def test_switch_is_bumpless_from_the_delivered_power(snap: Snap) -> None:
    m = ModeManager(ControlConfig(), ModeName.EXTERNAL_CONTROL)
    m.grant_lease(12_000.0, 0.0, "scada", 60.0, 0.0)
    assert m.step(snap(now_s=1.0)).decision.power_w == 12_000.0
    m.request_mode("self_consumption", "cloud")
    # The battery delivers 12 kW and the grid is at 0: self-consumption continues from there.
    out = m.step(snap(now_s=2.0, grid_power_w=0.0, battery_power_w=12_000.0)).decision
    assert out.power_w == pytest.approx(12_000.0)


def test_no_mode_change_while_islanded(snap: Snap) -> None:
    m = ModeManager(ControlConfig(backup=BackupConfig(enabled=True)))
    m.step(snap(now_s=0.0, grid_voltage_v=0.0))
    assert m.step(snap(now_s=1.0, grid_voltage_v=0.0)).islanded
    with pytest.raises(ModeCommandError) as err:
        m.request_mode("passive", "cloud")
    assert err.value.status == 409


def test_reconnection_gradient_limits_every_mode_after_grid_return(snap: Snap) -> None:
    loss = GridLossConfig(reconnect_delay_s=60.0, reconnect_gradient_pct_per_min=10.0)
    m = ModeManager(ControlConfig(backup=BackupConfig(grid_loss=loss)), ModeName.EXTERNAL_CONTROL)
    m.grant_lease(40_000.0, 0.0, "scada", 300.0, 0.0)
    m.step(snap(now_s=0.0))
    m.step(snap(now_s=1.0, grid_freq_hz=47.0))
    assert m.step(snap(now_s=2.0, grid_freq_hz=47.0)).decision.power_w == 0.0
    for t in range(3, 63):
        assert m.step(snap(now_s=float(t))).decision.power_w == 0.0  # waiting the reconnection delay
    allowed = []
    for t in range(63, 63 + 240, 60):
        allowed.append(m.step(snap(now_s=float(t))).decision.power_w)
    # 10 % of 50 kW per minute = 5 kW/min, from 0 at reconnection.
    assert allowed[0] == pytest.approx(0.0, abs=1.0)
    assert allowed[1:] == pytest.approx([5_000.0, 10_000.0, 15_000.0], rel=0.05)
    m.grant_lease(40_000.0, 0.0, "scada", 300.0, 250.0)  # renewed, as SCADA does
    assert m.step(snap(now_s=63 + 8 * 60.0 + 1)).decision.power_w == 40_000.0
