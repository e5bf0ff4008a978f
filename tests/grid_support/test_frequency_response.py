from __future__ import annotations

import pytest

from masterController.control.allocator import NodeState
from masterController.grid_support.characteristics import Fcr
from masterController.grid_support.frequency_response import FrequencyResponse, Share
from masterController.grid_support.reserves import Reserve, assign_shares, maintained_capacity, reserve_for
from sitecontroller.config.control import FcrConfig, FfrConfig, GridServicesConfig, LfsmConfig

ON = FcrConfig(enabled=True, capacity_w=10_000.0, energy_wh=100_000.0)


def test_stacked_products_add_up_and_lfsm_adds_on_top() -> None:
    cfg = GridServicesConfig(fcrn=ON, fcrd_up=ON, ffr=FfrConfig(enabled=True, capacity_w=5_000.0))
    fr = FrequencyResponse(cfg, rated_power_w=50_000.0)
    fr.assign(Fcr.N, Share(4_000.0, 40_000.0))
    fr.assign(Fcr.D_UP, Share(8_000.0, 40_000.0))
    fr.assign("ffr", Share(5_000.0, 0.0))
    assert fr.update(50.0, 0.0, 50.0) == pytest.approx(0.0)
    total = fr.update(49.7, 0.1, 50.0)  # FCR-N full, FCR-D half, FFR triggered
    assert total == pytest.approx(4_000.0 + 4_000.0 + 5_000.0)
    assert fr.detail.ffr_w == 5_000.0 and fr.detail.fcr_w[Fcr.D_UP] == pytest.approx(4_000.0)
    lf = FrequencyResponse(GridServicesConfig(fcrn=ON), rated_power_w=50_000.0)  # LFSM-O on by default
    lf.assign(Fcr.N, Share(4_000.0, 40_000.0))
    assert lf.update(50.7, 0.0, 50.0) == pytest.approx(-4_000.0 - 0.4 * 50_000.0 * 0.5)


def test_output_clipped_to_rating_and_disabled_products_ignored() -> None:
    cfg = GridServicesConfig(fcrn=ON, lfsm=LfsmConfig(over_enabled=False))
    fr = FrequencyResponse(cfg, rated_power_w=3_000.0)
    fr.assign(Fcr.N, Share(4_000.0, 40_000.0))
    fr.assign(Fcr.D_UP, Share(4_000.0, 40_000.0))  # not enabled in the config: ignored
    assert fr.update(49.0, 0.0, 50.0) == 3_000.0
    fr.assign(Fcr.N, Share(0.0, 0.0))
    assert fr.update(49.0, 1.0, 50.0) == 0.0


def test_reserve_table_10_and_soc_window() -> None:
    cfg = GridServicesConfig(
        fcrn=FcrConfig(enabled=True, capacity_w=1_000.0),
        fcrd_up=FcrConfig(enabled=True, capacity_w=3_000.0),
        ffr=FfrConfig(enabled=True, capacity_w=600.0),
    )
    r = reserve_for(cfg)
    assert r.discharge_w == pytest.approx(1_340.0 + 3_000.0 + 600.0)
    assert r.charge_w == pytest.approx(1_340.0 + 600.0)
    assert r.energy_up_wh == pytest.approx(1_000.0 + 1_000.0 + 600.0 * 30 / 3600)
    assert Reserve(energy_up_wh=10_000.0, energy_down_wh=5_000.0).soc_window_pct(100_000.0) == (10.0, 95.0)


def test_maintained_capacity_cuts_fcrd_before_fcrn() -> None:
    cfg = GridServicesConfig(
        fcrn=FcrConfig(enabled=True, capacity_w=1_000.0), fcrd_up=FcrConfig(enabled=True, capacity_w=2_000.0)
    )
    m = maintained_capacity(p_max_w=2_000.0, p_min_w=-2_000.0, baseline_w=0.0, services=cfg)
    assert (m.fcrn_w, m.fcrd_up_w) == (1_000.0, 1_000.0)


def test_assign_shares_by_power_and_energy() -> None:
    nodes = [
        NodeState("a", 50.0, 10_000.0, 5_000.0, 100_000.0),
        NodeState("b", 50.0, 30_000.0, 30_000.0, 300_000.0),
        NodeState("c", 50.0, 30_000.0, 30_000.0, 300_000.0, online=False),
    ]
    up = assign_shares(20_000.0, 200_000.0, nodes, "up")
    assert up["a"].capacity_w == pytest.approx(5_000.0) and up["b"].energy_wh == pytest.approx(150_000.0)
    assert "c" not in up
    both = assign_shares(7_000.0, 0.0, nodes, "both")
    assert both["a"].capacity_w == pytest.approx(1_000.0)
    with pytest.raises(ValueError, match="exceeds"):
        assign_shares(50_000.0, 0.0, nodes, "up")


def test_reserve_applied_to_the_snapshot_limits_the_modes() -> None:
    from masterController.control.snapshot import SiteSnapshot, baseline_limits

    snapshot = SiteSnapshot(now_s=0.0, wall_s=0.0, grid_power_w=0.0, battery_power_w=0.0, soc_pct=50.0,
                            max_discharge_w=50_000.0, max_charge_w=50_000.0)  # fmt: skip
    reserved = Reserve(discharge_w=20_000.0, charge_w=4_000.0, energy_up_wh=10_000.0).apply_to(
        snapshot, 100_000.0
    )
    limits = baseline_limits(reserved, 5.0, 95.0)
    assert (limits.max_discharge_w, limits.max_charge_w) == (30_000.0, 46_000.0)
    assert (limits.soc_min_pct, limits.soc_max_pct) == (10.0, 95.0)


def test_repeated_share_keeps_state_and_bad_measurements_give_zero() -> None:
    cfg = GridServicesConfig(
        ffr=FfrConfig(enabled=True, capacity_w=5_000.0), lfsm=LfsmConfig(over_enabled=False)
    )
    fr = FrequencyResponse(cfg, rated_power_w=50_000.0)
    fr.assign("ffr", Share(5_000.0, 0.0))
    assert fr.update(49.6, 0.0, 50.0) == 5_000.0
    fr.assign("ffr", Share(5_000.0, 0.0))  # the master repeats the share: the activation continues
    assert fr.update(50.0, 1.0, 50.0) == 5_000.0
    for bad_hz, soc in ((float("nan"), 50.0), (0.0, 50.0), (50.0, float("nan")), (50.0, 120.0)):
        assert fr.update(bad_hz, 2.0, soc) == 0.0
