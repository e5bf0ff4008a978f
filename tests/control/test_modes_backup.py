from __future__ import annotations

from collections.abc import Callable

import pytest

from masterController.control.mode_manager import ModeCommandError, ModeManager
from masterController.control.modes.backup import Backup, BackupPhase, BackupState
from masterController.control.snapshot import ModeDecision, SiteSnapshot
from sitecontroller.config.control import (
    BackupConfig,
    ControlConfig,
    GridLossConfig,
    LoadSheddingStage,
    ModeName,
    SiteLimitsConfig,
)

Snap = Callable[..., SiteSnapshot]
LOSS = GridLossConfig(detect_delay_s=0.2, reconnect_delay_s=60.0, resync_timeout_s=30.0)
PARAMS = BackupConfig(
    enabled=True,
    grid_loss=LOSS,
    standby_soc_pct=90.0,
    standby_charge_power_w=5_000.0,
    shed_stages=(
        LoadSheddingStage(relay="heat_pump", shed_below_soc_pct=40.0, restore_above_soc_pct=50.0),
        LoadSheddingStage(relay="ev_charger", shed_below_soc_pct=60.0, restore_above_soc_pct=70.0),
    ),
    island_min_soc_pct=5.0,
    black_start_min_soc_pct=15.0,
    test_duration_s=30.0,
)
DEAD = {"grid_voltage_v": 0.0, "grid_freq_hz": 0.0}


class Driver:
    def __init__(self, snap: Snap) -> None:
        self.snap = snap
        self.ctrl = Backup(PARAMS, SiteLimitsConfig())
        self.state = BackupState()

    def at(self, t_s: float, **kw: float | None) -> ModeDecision:
        decision, self.state = self.ctrl.decide(self.snap(now_s=t_s, **kw), self.state)
        return decision


def test_standby_charges_to_the_backup_soc(snap: Snap) -> None:
    d = Driver(snap)
    assert d.at(0.0, soc_pct=50.0).power_w == -5_000.0
    assert d.at(1.0, soc_pct=95.0).power_w == 0.0


def test_short_glitch_is_not_a_grid_loss(snap: Snap) -> None:
    d = Driver(snap)
    d.at(0.0, **DEAD)
    assert not d.at(0.1, **DEAD).open_grid_contactor
    d.at(0.15)
    assert d.state.phase is BackupPhase.CONNECTED


def test_loss_islands_sheds_by_soc_and_goes_dark_when_empty(snap: Snap) -> None:
    d = Driver(snap)
    d.at(0.0, soc_pct=80.0, **DEAD)
    out = d.at(0.2, soc_pct=80.0, **DEAD)
    assert out.grid_forming and out.open_grid_contactor and out.shed_relays == ()
    assert d.at(10.0, soc_pct=55.0, **DEAD).shed_relays == ("ev_charger",)
    assert d.at(20.0, soc_pct=35.0, **DEAD).shed_relays == ("ev_charger", "heat_pump")
    assert d.at(30.0, soc_pct=45.0, **DEAD).shed_relays == ("ev_charger", "heat_pump")  # hysteresis
    assert d.at(40.0, soc_pct=52.0, **DEAD).shed_relays == ("ev_charger",)
    dark = d.at(50.0, soc_pct=4.0, **DEAD)
    assert d.state.phase is BackupPhase.DARK and not dark.grid_forming and dark.open_grid_contactor
    assert d.at(60.0, soc_pct=10.0, **DEAD).grid_forming is False  # not enough for a black start
    black = d.at(70.0, soc_pct=16.0, **DEAD)  # e.g. DC-coupled PV recharged it
    assert black.grid_forming and "black start" in black.reason
    assert set(black.shed_relays) == {"ev_charger", "heat_pump"}


def test_grid_return_waits_the_delay_then_resyncs_and_reconnects(snap: Snap) -> None:
    d = Driver(snap)
    d.at(0.0, **DEAD)
    d.at(0.5, **DEAD)
    assert d.state.phase is BackupPhase.ISLANDED
    for t in range(1, 61):
        assert d.at(float(t), island_freq_hz=50.3).open_grid_contactor  # grid back, delay running
    out = d.at(61.0, island_freq_hz=50.3)
    assert d.state.phase is BackupPhase.RESYNC and out.grid_forming and "synchronising" in out.reason
    out = d.at(62.0, island_freq_hz=50.05)
    assert d.state.phase is BackupPhase.CONNECTED and not out.open_grid_contactor


def test_resync_timeout_returns_to_island_and_waits_again(snap: Snap) -> None:
    d = Driver(snap)
    d.at(0.0, **DEAD)
    d.at(0.5, **DEAD)
    for t in range(1, 62):
        d.at(float(t), island_freq_hz=51.0)
    assert d.state.phase is BackupPhase.RESYNC
    d.at(100.0, island_freq_hz=51.0)
    assert d.state.phase is BackupPhase.ISLANDED and d.state.watch.lost


def test_grid_back_while_dark_reconnects_directly(snap: Snap) -> None:
    d = Driver(snap)
    d.at(0.0, soc_pct=4.0, **DEAD)
    d.at(0.5, soc_pct=4.0, **DEAD)
    d.at(1.0, soc_pct=4.0, **DEAD)
    assert d.state.phase is BackupPhase.DARK
    for t in range(2, 70):
        d.at(float(t), soc_pct=4.0, island_freq_hz=None)
    assert d.state.phase is BackupPhase.CONNECTED


def test_test_mode_rehearses_without_opening_the_contactor(snap: Snap) -> None:
    m = ModeManager(ControlConfig(backup=PARAMS), ModeName.SELF_CONSUMPTION)
    m.step(snap(now_s=0.0))
    m.start_backup_test(now_s=1.0)
    out = m.step(snap(now_s=2.0, soc_pct=55.0))
    assert "TEST" in out.decision.reason and "would shed ev_charger" in out.decision.reason
    assert (
        not out.decision.open_grid_contactor
        and out.decision.shed_relays == ()
        and not out.decision.grid_forming
    )
    done = m.step(snap(now_s=40.0))
    assert "test complete" in done.decision.reason
    assert m.backup_phase is BackupPhase.CONNECTED
    assert m.step(snap(now_s=41.0, grid_power_w=3_000.0)).decision.reason.startswith("self-consumption")


def test_real_loss_during_a_test_islands_for_real(snap: Snap) -> None:
    m = ModeManager(ControlConfig(backup=PARAMS))
    m.step(snap(now_s=0.0))
    m.start_backup_test(now_s=0.0)
    m.step(snap(now_s=1.0, **DEAD))
    out = m.step(snap(now_s=2.0, **DEAD))
    assert out.islanded and out.decision.open_grid_contactor


def test_backup_test_needs_backup_enabled() -> None:
    with pytest.raises(ModeCommandError) as err:
        ModeManager(ControlConfig()).start_backup_test(0.0)
    assert err.value.status == 409


def test_backup_config_rejects_bad_windows() -> None:
    with pytest.raises(ValueError, match="nest"):
        GridLossConfig(reconnect_freq_min_hz=47.0)
    with pytest.raises(ValueError, match="restore"):
        LoadSheddingStage(relay="x", shed_below_soc_pct=50.0, restore_above_soc_pct=40.0)
