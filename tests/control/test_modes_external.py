from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from masterController.control.mode_manager import ModeCommandError, ModeManager
from masterController.control.schedule import Schedule, ScheduleError, active_entry
from masterController.control.snapshot import SiteSnapshot
from sitecontroller.config.control import ControlConfig, ExternalControlConfig, ModeName, ScheduleEntry

Snap = Callable[..., SiteSnapshot]
T0 = 1_767_225_600.0  # midnight UTC
LOCAL = (ScheduleEntry(start_s=8 * 3600.0, duration_s=3600.0, power_w=-4_000.0, daily=True),)


def manager(max_age_s: float = 3600.0) -> ModeManager:
    ext = ExternalControlConfig(
        local_schedule=LOCAL, cloud_schedule_max_age_s=max_age_s, max_lease_ttl_s=60.0
    )
    return ModeManager(ControlConfig(external_control=ext), ModeName.EXTERNAL_CONTROL)


def cloud_payload(*entries: dict[str, float]) -> str:
    return json.dumps(list(entries))


def test_lease_wins_then_expires_to_the_schedule(snap: Snap) -> None:
    m = manager()
    m.grant_lease(7_000.0, 1_000.0, "scada", ttl_s=30.0, now_s=0.0)
    out = m.step(snap(now_s=10.0, wall_s=T0 + 8 * 3600.0)).decision
    assert (out.power_w, out.reactive_power_var) == (7_000.0, 1_000.0)
    assert "scada setpoint (lease)" in out.reason
    out = m.step(snap(now_s=31.0, wall_s=T0 + 8 * 3600.0 + 21.0)).decision
    assert out.power_w == -4_000.0 and "local fallback schedule" in out.reason


def test_lease_validation_and_mode_check(snap: Snap) -> None:
    m = manager()
    with pytest.raises(ModeCommandError) as too_long:
        m.grant_lease(1.0, 0.0, "cloud", ttl_s=600.0, now_s=0.0)
    assert too_long.value.status == 400
    with pytest.raises(ModeCommandError) as nan:
        m.grant_lease(float("nan"), 0.0, "cloud", ttl_s=10.0, now_s=0.0)
    assert nan.value.status == 400
    other = ModeManager(ControlConfig(), ModeName.SELF_CONSUMPTION)
    with pytest.raises(ModeCommandError) as wrong_mode:
        other.grant_lease(1.0, 0.0, "scada", ttl_s=10.0, now_s=0.0)
    assert wrong_mode.value.status == 409


def test_cloud_schedule_then_local_fallback_when_the_cloud_is_gone(snap: Snap) -> None:
    m = manager(max_age_s=3600.0)
    m.update_cloud_schedule(
        cloud_payload(
            {
                "start_s": T0 + 8 * 3600.0,
                "duration_s": 1800.0,
                "power_w": 9_000.0,
                "reactive_power_var": -500.0,
            }
        ),
        now_s=0.0,
    )
    out = m.step(snap(now_s=100.0, wall_s=T0 + 8 * 3600.0 + 60.0)).decision
    assert (out.power_w, out.reactive_power_var) == (9_000.0, -500.0) and "cloud schedule" in out.reason
    out = m.step(snap(now_s=3700.0, wall_s=T0 + 8 * 3600.0 + 120.0)).decision  # cloud copy too old
    assert out.power_w == -4_000.0 and "local fallback" in out.reason


def test_schedule_gap_is_zero_with_a_reason(snap: Snap) -> None:
    out = manager().step(snap(now_s=1.0, wall_s=T0 + 12 * 3600.0)).decision
    assert out.power_w == 0.0 and "gap" in out.reason


def test_bad_cloud_schedule_is_rejected_whole_and_the_old_one_stays(snap: Snap) -> None:
    m = manager()
    m.update_cloud_schedule(cloud_payload({"start_s": T0, "duration_s": 86_400.0, "power_w": 1_000.0}), 0.0)
    overlapping = cloud_payload(
        {"start_s": T0, "duration_s": 600.0, "power_w": 1.0},
        {"start_s": T0 + 300.0, "duration_s": 600.0, "power_w": 2.0},
    )
    with pytest.raises(ModeCommandError, match="overlap") as err:
        m.update_cloud_schedule(overlapping, 1.0)
    assert err.value.status == 400
    with pytest.raises(ModeCommandError, match="invalid schedule"):
        m.update_cloud_schedule(cloud_payload({"start_s": T0, "duration_s": -1.0, "power_w": 1.0}), 1.0)
    assert m.step(snap(now_s=2.0, wall_s=T0 + 10.0)).decision.power_w == 1_000.0


def test_schedule_lookup_daily_wrap_and_dated_priority() -> None:
    night = ScheduleEntry(start_s=23 * 3600.0, duration_s=2 * 3600.0, power_w=-1.0, daily=True)
    dated = ScheduleEntry(start_s=T0 + 1800.0, duration_s=600.0, power_w=5.0)
    entries = (night, dated)
    assert active_entry(entries, T0 + 600.0, 0) is night  # 00:10 is inside 23:00 + 2 h
    assert active_entry(entries, T0 + 1900.0, 0) is dated
    assert active_entry(entries, T0 + 3 * 3600.0, 0) is None
    assert active_entry(entries, T0 + 3 * 3600.0, -4 * 3600) is night  # 23:00 local at UTC-4
    with pytest.raises(ScheduleError):
        Schedule.validated((night, ScheduleEntry(start_s=0.0, duration_s=60.0, power_w=1.0, daily=True)), 0.0)


def test_setpoints_are_clipped_to_soc_window(snap: Snap) -> None:
    m = manager()
    m.grant_lease(20_000.0, 0.0, "scada", ttl_s=30.0, now_s=0.0)
    out = m.step(snap(now_s=1.0, soc_pct=4.0)).decision
    assert out.power_w == 0.0 and "floor" in out.reason
