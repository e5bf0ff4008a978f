"""Whatever the inputs, no mode asks for more than the cluster can give minus the grid-service reserve,
and none discharges an empty or charges a full battery."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from masterController.control.mode_manager import ModeManager
from masterController.control.snapshot import SiteSnapshot, baseline_limits
from sitecontroller.config.control import ControlConfig, ModeName

MODES = [m for m in ModeName if m is not ModeName.BACKUP]
power = st.floats(-200_000.0, 200_000.0)
snapshots = st.lists(
    st.builds(
        SiteSnapshot,
        now_s=st.just(0.0),
        wall_s=st.floats(1.7e9, 1.8e9),
        grid_power_w=power,
        battery_power_w=power,
        soc_pct=st.floats(0.0, 100.0),
        max_discharge_w=st.floats(0.0, 100_000.0),
        max_charge_w=st.floats(0.0, 100_000.0),
        load_power_w=st.floats(0.0, 100_000.0),
        meter_valid=st.booleans(),
        service_power_w=st.floats(-10_000.0, 10_000.0),
        reserve_discharge_w=st.floats(0.0, 50_000.0),
        reserve_charge_w=st.floats(0.0, 50_000.0),
        reserve_soc_low_pct=st.floats(0.0, 40.0),
        reserve_soc_high_pct=st.floats(60.0, 100.0),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(MODES), snapshots, st.floats(-100_000.0, 100_000.0))
def test_no_mode_exceeds_limits_or_reserve(
    mode: ModeName, snaps: list[SiteSnapshot], command_w: float
) -> None:
    # A charge target above the site's SoC ceiling must still stop at the ceiling.
    config = ControlConfig.model_validate_json('{"charge_only": {"target_soc_pct": 100}}')
    manager = ModeManager(config, ModeName.PASSIVE)
    manager.request_mode(mode, "local")
    if mode is ModeName.EXTERNAL_CONTROL:
        manager.grant_lease(command_w, 0.0, "scada", 60.0, 0.0)
    manager.local_setpoint(command_w, 0.0)
    for k, snap in enumerate(snaps):
        snap = SiteSnapshot(**{**{f: getattr(snap, f) for f in snap.__slots__}, "now_s": float(k)})
        decision = manager.step(snap).decision
        limits = baseline_limits(snap, config.site.soc_min_pct, config.site.soc_max_pct)
        assert math.isfinite(decision.power_w), decision.reason
        assert -limits.max_charge_w - 1e-6 <= decision.power_w <= limits.max_discharge_w + 1e-6, (
            decision.reason
        )
        if snap.soc_pct <= limits.soc_min_pct:
            assert decision.power_w <= 1e-6, decision.reason
        if snap.soc_pct >= limits.soc_max_pct:
            assert decision.power_w >= -1e-6, decision.reason
