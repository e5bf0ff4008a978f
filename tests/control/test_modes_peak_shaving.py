from __future__ import annotations

from collections.abc import Callable

import pytest

from masterController.control.mode_manager import ModeManager
from masterController.control.modes.peak_shaving import PeakShaving
from masterController.control.snapshot import SiteSnapshot
from sitecontroller.config.control import (
    BackupConfig,
    ControlConfig,
    ModeName,
    PeakShavingConfig,
    SiteLimitsConfig,
)

Snap = Callable[..., SiteSnapshot]
PARAMS = PeakShavingConfig(import_limit_w=40_000.0, export_limit_w=20_000.0, recharge_below_w=30_000.0,
                           recharge_power_w=8_000.0, recharge_soc_target_pct=90.0)  # fmt: skip


def settle(snap: Snap, net_w: float, cycles: int = 6, **kw: float) -> tuple[float, str]:
    ctrl = PeakShaving(PARAMS, SiteLimitsConfig())
    battery_w = 0.0
    state = ctrl.start(snap(grid_power_w=net_w, **kw))
    reason = ""
    for k in range(cycles):
        decision, state = ctrl.decide(
            snap(now_s=float(k), grid_power_w=net_w - battery_w, battery_power_w=battery_w, **kw), state
        )
        battery_w, reason = decision.power_w, decision.reason
    return battery_w, reason


def test_import_above_limit_is_shaved_to_the_limit(snap: Snap) -> None:
    power_w, reason = settle(snap, 55_000.0)
    assert power_w == pytest.approx(15_000.0)
    assert "above limit" in reason


def test_export_above_limit_is_charged_away(snap: Snap) -> None:
    power_w, _ = settle(snap, -26_000.0)
    assert power_w == pytest.approx(-6_000.0)


def test_recharges_below_the_recharge_level_only(snap: Snap) -> None:
    assert settle(snap, 10_000.0)[0] == pytest.approx(-8_000.0)
    assert settle(snap, 25_000.0)[0] == pytest.approx(-5_000.0)  # keeps import <= 30 kW
    assert settle(snap, 35_000.0)[0] == 0.0
    assert settle(snap, 10_000.0, soc_pct=92.0)[0] == 0.0  # recharge target reached


def test_never_eats_grid_service_headroom(snap: Snap) -> None:
    power_w, _ = settle(snap, 80_000.0, reserve_discharge_w=30_000.0)
    assert power_w == pytest.approx(20_000.0)  # 50 kW cluster - 30 kW reserve


def test_empty_battery_cannot_shave(snap: Snap) -> None:
    power_w, _ = settle(snap, 55_000.0, soc_pct=5.0)
    assert power_w == 0.0


def test_grid_loss_during_peak_shaving_without_backup_goes_to_zero(snap: Snap) -> None:
    manager = ModeManager(ControlConfig(peak_shaving=PARAMS), ModeName.PEAK_SHAVING)
    manager.step(snap(grid_power_w=55_000.0))  # entering the mode: continues from 0 W
    assert manager.step(snap(now_s=1.0, grid_power_w=55_000.0)).decision.power_w == pytest.approx(15_000.0)
    manager.step(snap(now_s=2.0, grid_power_w=40_000.0, battery_power_w=15_000.0, grid_voltage_v=0.0))
    out = manager.step(snap(now_s=3.0, grid_power_w=0.0, battery_power_w=15_000.0, grid_voltage_v=0.0))
    assert out.islanded and out.decision.power_w == 0.0
    assert "anti-islanding" in out.decision.reason


def test_grid_loss_during_peak_shaving_with_backup_islands(snap: Snap) -> None:
    cfg = ControlConfig(peak_shaving=PARAMS, backup=BackupConfig(enabled=True))
    manager = ModeManager(cfg, ModeName.PEAK_SHAVING)
    manager.step(snap(grid_power_w=55_000.0))
    manager.step(snap(now_s=1.0, grid_power_w=0.0, grid_freq_hz=0.0, grid_voltage_v=0.0))
    out = manager.step(snap(now_s=2.0, grid_power_w=0.0, grid_freq_hz=0.0, grid_voltage_v=0.0))
    assert out.islanded and out.decision.grid_forming and out.decision.open_grid_contactor
    assert out.mode is ModeName.PEAK_SHAVING  # the selected mode resumes after reconnection
