"""Pure battery logic on the simulated clock: SoC delta compensation and drift, full/empty
hysteresis, balancing sessions, NTC compensation, BMS power limit derating and recovery ramp."""

from __future__ import annotations

import pytest

from sitecontroller.bms.balancing import BalancingController
from sitecontroller.bms.fullness import FullnessDetector
from sitecontroller.bms.ntc import compensate_c
from sitecontroller.bms.power_limit import BmsPowerLimiter, target_limits
from sitecontroller.bms.soc import SocTracker, ocv_soc_pct
from sitecontroller.config.bms import (
    LFP_OCV_TABLE,
    BalancingConfig,
    BmsConfig,
    FullnessConfig,
    NtcConfig,
    PowerLimitConfig,
    SocConfig,
)
from sitecontroller.core.readings import BmsReading
from sitecontroller.runtime.sysinfo import SysInfo


def reading(**kw: object) -> BmsReading:
    base: dict[str, object] = {
        "soc_pct": 50.0,
        "voltage_v": 800.0,
        "current_a": 0.0,
        "cell_voltage_min_v": 3.30,
        "cell_voltage_max_v": 3.32,
        "cell_temp_min_c": 25.0,
        "cell_temp_max_c": 27.0,
        "charge_current_limit_a": 100.0,
        "discharge_current_limit_a": 120.0,
    }
    return BmsReading(**{**base, **kw})  # type: ignore[arg-type]


# ------------------------------------------------------------------ SoC
def test_coulomb_counting_between_bms_updates_stays_within_one_step() -> None:
    t = SocTracker(SocConfig(resolution_pct=1.0), capacity_ah=100.0)
    assert t.update(50.0, 50.0, None, 0.0, 100.0).soc_pct == 50.0
    # 50 A discharge for 36 s = 0.5 Ah = 0.5 % of 100 Ah.
    assert t.update(50.0, 50.0, None, 36.0, 100.0).soc_pct == pytest.approx(49.5)
    assert t.update(50.0, 50.0, None, 108.0, 100.0).soc_pct == pytest.approx(49.0)  # clamped to one step
    assert t.update(48.0, 50.0, None, 110.0, 100.0).soc_pct == 48.0  # the BMS value changed: it wins
    assert t.update(48.0, -100.0, None, 119.0, 100.0).soc_pct == pytest.approx(48.25)  # charging raises it


def test_soc_drift_detected_at_rest_in_the_steep_region_and_corrected() -> None:
    p = SocConfig(rest_time_s=1800.0, drift_threshold_pct=8.0)
    t = SocTracker(p, capacity_ah=100.0)
    # The BMS says 25 %, the rested cells say ~5 % (3.10 V): a drifted BMS.
    est = t.update(25.0, 0.5, 3.10, 0.0, 100.0)
    assert not est.drift_detected
    est = t.update(25.0, 0.5, 3.10, 1799.0, 100.0)
    assert not est.drift_detected
    est = t.update(25.0, 0.5, 3.10, 1801.0, 100.0)
    assert est.drift_detected and est.delta_pct == pytest.approx(-20.0, abs=0.5)
    assert est.soc_pct == pytest.approx(5.0, abs=0.5)
    # Full charge re-anchors the BMS: the correction is dropped.
    est = t.update(100.0, 0.0, 3.45, 5000.0, 100.0)
    assert not est.drift_detected and est.delta_pct == 0.0 and est.soc_pct == 100.0


def test_soc_drift_not_judged_on_the_flat_part_or_under_load() -> None:
    t = SocTracker(SocConfig(rest_time_s=10.0), capacity_ah=100.0)
    t.update(80.0, 0.0, 3.28, 0.0, 100.0)  # 3.28 V = 40 % but flat: not trusted
    assert not t.update(80.0, 0.0, 3.28, 20.0, 100.0).drift_detected
    t2 = SocTracker(SocConfig(rest_time_s=10.0), capacity_ah=100.0)
    t2.update(25.0, 50.0, 3.10, 0.0, 100.0)
    assert not t2.update(25.0, 50.0, 3.10, 20.0, 100.0).drift_detected  # not at rest


def test_ocv_lookup() -> None:
    assert ocv_soc_pct(3.10, LFP_OCV_TABLE) == pytest.approx(5.0)
    assert ocv_soc_pct(2.0, LFP_OCV_TABLE) == 0.0 and ocv_soc_pct(4.0, LFP_OCV_TABLE) == 100.0


# ------------------------------------------------------------------ full / empty
def test_fully_charged_and_discharged_with_hysteresis_into_sysinfo() -> None:
    info = SysInfo()
    d = FullnessDetector(FullnessConfig(), info)
    d.update(99.6, 3.45, 3.40, wall_s=1000.0)
    assert d.full and info.last_fully_charged_wall_s == 1000.0
    d.update(98.0, 3.40, 3.35, wall_s=1100.0)  # inside the hysteresis band: still full, no new event
    d.update(99.7, 3.45, 3.40, wall_s=1200.0)
    assert info.last_fully_charged_wall_s == 1000.0
    d.update(96.0, 3.35, 3.30, wall_s=1300.0)
    assert not d.full
    d.update(99.8, 3.45, 3.40, wall_s=1400.0)
    assert info.last_fully_charged_wall_s == 1400.0
    d.update(40.0, 3.30, 2.85, wall_s=2000.0)  # a cell at the empty voltage counts as empty
    assert d.empty and info.last_fully_discharged_wall_s == 2000.0
    d.update(2.0, 3.30, 3.00, wall_s=2100.0)
    assert d.empty
    d.update(4.0, 3.30, 3.00, wall_s=2200.0)
    assert not d.empty


def test_fullness_config_requires_hysteresis() -> None:
    with pytest.raises(ValueError):
        FullnessConfig(full_soc_pct=97.0, full_release_soc_pct=98.0)


# ------------------------------------------------------------------ balancing
def test_balancing_session_when_target_how_long_and_history() -> None:
    info = SysInfo()
    p = BalancingConfig(max_duration_s=3600.0, min_interval_s=7200.0)
    b = BalancingController(p, info)
    assert not b.update(False, 97.0, 0.0, 3.40, 3.45, 0.0, 1e9).active  # flag off: never
    assert not b.update(True, 80.0, 0.0, 3.30, 3.35, 0.0, 1e9).active  # not near full
    d = b.update(True, 97.0, 1.0, 3.40, 3.45, 10.0, 1e9 + 10)
    assert d.active and d.target_v == pytest.approx(3.40) and d.remaining_s == pytest.approx(3600.0)
    d = b.update(True, 97.0, 1.0, 3.40, 3.43, 1810.0, 1e9 + 1810)
    assert d.active and d.remaining_s == pytest.approx(1800.0)
    d = b.update(True, 97.0, 1.0, 3.40, 3.405, 2000.0, 1e9 + 2000)
    assert not d.active
    event = info.cell_balance_history[-1]
    assert event["reason"] == "balanced" and event["duration_s"] == pytest.approx(1990.0)
    assert event["spread_start_v"] == pytest.approx(0.05)
    # Not again before min_interval_s, then stops at max duration.
    assert not b.update(True, 97.0, 0.0, 3.40, 3.45, 3000.0, 0).active
    assert b.update(True, 97.0, 0.0, 3.40, 3.45, 9300.0, 0).active
    assert not b.update(True, 97.0, 0.0, 3.40, 3.45, 12_900.0, 0).active
    assert info.cell_balance_history[-1]["reason"] == "max_duration"


def test_balancing_stops_when_the_flag_is_cleared_or_current_flows() -> None:
    info = SysInfo()
    b = BalancingController(BalancingConfig(min_interval_s=0.0), info)
    assert b.update(True, 97.0, 0.0, 3.40, 3.45, 0.0, 0.0).active
    assert not b.update(False, 97.0, 0.0, 3.40, 3.45, 1.0, 1.0).active
    assert b.update(True, 97.0, 0.0, 3.40, 3.45, 2.0, 2.0).active
    assert not b.update(True, 97.0, 50.0, 3.40, 3.45, 3.0, 3.0).active
    assert [e["reason"] for e in info.cell_balance_history] == ["disabled", "current"]


# ------------------------------------------------------------------ NTC
def test_ntc_compensation_identity_and_beta_correction() -> None:
    assert compensate_c(40.0, NtcConfig()) == pytest.approx(40.0)
    assert compensate_c(25.0, NtcConfig(beta_bms_k=3435, beta_actual_k=3950)) == pytest.approx(25.0)
    # The firmware's lower B reads cold too cold; the real sensor is warmer than reported, and vice versa.
    cold = compensate_c(0.0, NtcConfig(beta_bms_k=3435, beta_actual_k=3950))
    hot = compensate_c(50.0, NtcConfig(beta_bms_k=3435, beta_actual_k=3950))
    assert 2.0 < cold < 4.0 and 46.0 < hot < 48.5
    assert compensate_c(25.0, NtcConfig(offset_c=-1.5)) == pytest.approx(23.5)


# ------------------------------------------------------------------ power limit
def test_limits_are_current_times_voltage() -> None:
    assert target_limits(reading(), PowerLimitConfig()) == pytest.approx((80_000.0, 96_000.0))


def test_missing_limits_or_reading_allow_nothing() -> None:
    assert target_limits(reading(charge_current_limit_a=None), PowerLimitConfig()) == (0.0, 0.0)
    assert BmsPowerLimiter(PowerLimitConfig()).limit(None, 0.0).charge_w == 0.0


def test_derating_near_the_cell_voltage_limits() -> None:
    p = PowerLimitConfig(cell_voltage_max_v=3.60, cell_voltage_min_v=2.90, derate_window_v=0.10)
    charge, _ = target_limits(reading(cell_voltage_max_v=3.55), p)
    assert charge == pytest.approx(40_000.0)  # half way into the window
    _, discharge = target_limits(reading(cell_voltage_min_v=2.925), p)
    assert discharge == pytest.approx(24_000.0)
    assert target_limits(reading(cell_voltage_max_v=3.61), p)[0] == 0.0


def test_cold_lowers_the_charge_voltage_limit() -> None:
    p = PowerLimitConfig(temp_compensation_v_per_c=0.003, temp_compensation_ref_c=15.0)
    warm, _ = target_limits(reading(cell_voltage_max_v=3.52), p)
    cold, _ = target_limits(reading(cell_voltage_max_v=3.52, cell_temp_min_c=12.0, cell_temp_max_c=12.0), p)
    assert warm == pytest.approx(64_000.0)
    # 3 degC below the reference: v_max 3.591 -> (3.591 - 3.52) / 0.1 = 0.71
    assert cold == pytest.approx(80_000.0 * 0.71)


@pytest.mark.parametrize(
    ("temp_c", "charge_factor", "discharge_factor"),
    [
        (-25.0, 0.0, 0.0),
        (-15.0, 0.0, 0.5),
        (5.0, 0.5, 1.0),
        (25.0, 1.0, 1.0),
        (50.0, 0.5, 1.0),
        (58.0, 0.0, 0.2),
    ],
)
def test_temperature_derating(temp_c: float, charge_factor: float, discharge_factor: float) -> None:
    p = PowerLimitConfig(temp_compensation_v_per_c=0.0)
    charge, discharge = target_limits(reading(cell_temp_min_c=temp_c, cell_temp_max_c=temp_c), p)
    assert charge == pytest.approx(80_000.0 * charge_factor)
    assert discharge == pytest.approx(96_000.0 * discharge_factor)


@pytest.mark.parametrize(
    ("flag", "charge_open", "discharge_open"),
    [("over_voltage", False, True), ("under_voltage", True, False), ("over_temp", False, False)],
)
def test_protections_close_the_direction_they_protect(
    flag: str, charge_open: bool, discharge_open: bool
) -> None:
    charge, discharge = target_limits(reading(protections=frozenset({flag})), PowerLimitConfig())
    assert (charge > 0, discharge > 0) == (charge_open, discharge_open)


def test_reduction_is_immediate_and_recovery_ramps() -> None:
    lim = BmsPowerLimiter(PowerLimitConfig(recovery_ramp_w_per_s=1000.0))
    assert lim.limit(reading(), 0.0).charge_w == 0.0  # soft start
    assert lim.limit(reading(), 10.0).charge_w == pytest.approx(10_000.0)
    assert lim.limit(reading(), 100.0).charge_w == pytest.approx(80_000.0)
    assert lim.limit(reading(charge_current_limit_a=10.0), 100.5).charge_w == pytest.approx(8_000.0)
    assert lim.limit(reading(), 101.5).charge_w == pytest.approx(9_000.0)
    assert lim.limit(None, 102.0).source == "bms"


# ------------------------------------------------------------------ config
def test_config_defaults_are_valid_and_bad_values_refused() -> None:
    config = BmsConfig()
    assert config.timeout_s == 3.0 and config.type == "pylontech"
    assert BmsConfig.model_validate_json('{"type": "cbms", "racks": [1, 2, 3]}').racks == (1, 2, 3)
    for bad in (
        '{"racks": []}',
        '{"racks": [1, 1]}',
        '{"type": "tesla"}',
        '{"timeout_s": 0.5}',
        '{"can": {"bitrate": 5}}',
        '{"bogus": 1}',
        '{"balancing": {"start_spread_v": 0.01, "stop_spread_v": 0.02}}',
    ):
        with pytest.raises(ValueError):
            BmsConfig.model_validate_json(bad)
