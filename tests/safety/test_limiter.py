"""The ChargeLimiter takes the tightest source per direction, says which one, and ramps safely."""

from __future__ import annotations

import math

import pytest

from sitecontroller.config.limits import Limits
from sitecontroller.core.readings import BmsReading
from sitecontroller.safety import limit_sources
from sitecontroller.safety.limiter import ChargeLimiter, PowerLimit, combine

SOURCES = [
    PowerLimit("rating", 10_000.0, 10_000.0),
    PowerLimit("bms", 3_000.0, 8_000.0),
    PowerLimit("temperature", 6_000.0, 4_000.0),
    PowerLimit("grid_code", 9_000.0, 9_000.0),
]


def settled(requested_w: float, sources: list[PowerLimit]) -> tuple[float, str]:
    """Apply with the ramp out of the way (long after a reset)."""
    limiter = ChargeLimiter(ramp_w_per_s=1_000.0)
    limiter.reset(0.0)
    out = limiter.apply(requested_w, sources, now_s=1_000.0)
    return out.power_w, out.limited_by


def test_tightest_source_per_direction_is_chosen_and_reported() -> None:
    limits = combine(SOURCES)
    assert (limits.charge_w, limits.charge_source) == (3_000.0, "bms")
    assert (limits.discharge_w, limits.discharge_source) == (4_000.0, "temperature")


@pytest.mark.parametrize(
    ("requested_w", "expected_w", "limited_by"),
    [(9_000.0, 4_000.0, "temperature"), (-9_000.0, -3_000.0, "bms"), (2_000.0, 2_000.0, "none")],
)
def test_setpoint_is_clipped_by_the_limiting_source(
    requested_w: float, expected_w: float, limited_by: str
) -> None:
    assert settled(requested_w, SOURCES) == (expected_w, limited_by)


def test_no_sources_means_no_power() -> None:
    assert settled(5_000.0, []) == (0.0, "no_limit_data")


def test_nan_request_is_never_commanded() -> None:
    assert settled(math.nan, SOURCES) == (0.0, "invalid_request")


def test_negative_or_nan_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="magnitudes"):
        PowerLimit("bad", -1.0, 0.0)
    with pytest.raises(ValueError):
        PowerLimit("bad", math.nan, 0.0)


def test_ramp_limits_rise_but_reductions_act_at_once() -> None:
    limiter = ChargeLimiter(ramp_w_per_s=1_000.0)
    limiter.reset(0.0)
    assert limiter.apply(5_000.0, SOURCES, 0.5).power_w == pytest.approx(500.0)
    out = limiter.apply(5_000.0, SOURCES, 1.0)
    assert out.power_w == pytest.approx(1_000.0) and out.limited_by == "ramp"
    assert limiter.apply(200.0, SOURCES, 1.1).power_w == 200.0  # towards zero: immediately
    # A sign change drops to 0 at once and ramps into the other direction.
    assert limiter.apply(-3_000.0, SOURCES, 1.2).power_w == pytest.approx(-100.0)


def bms(**overrides: float) -> BmsReading:
    values = dict(
        soc_pct=50.0,
        voltage_v=52.0,
        current_a=0.0,
        cell_voltage_min_v=3.3,
        cell_voltage_max_v=3.3,
        cell_temp_min_c=25.0,
        cell_temp_max_c=25.0,
    )
    values.update(overrides)
    return BmsReading(**values)  # type: ignore[arg-type]


LIMITS = Limits(
    max_charge_power_w=10_000.0, max_discharge_power_w=10_000.0, soc_min_pct=10.0, soc_max_pct=90.0
)


def test_soc_tapers_to_zero_at_each_end() -> None:
    assert limit_sources.soc(bms(soc_pct=90.0), LIMITS).charge_w == 0.0
    assert limit_sources.soc(bms(soc_pct=88.5), LIMITS).charge_w == pytest.approx(5_000.0)
    assert limit_sources.soc(bms(soc_pct=10.0), LIMITS).discharge_w == 0.0
    assert limit_sources.soc(bms(soc_pct=50.0), LIMITS).discharge_w == 10_000.0


def test_cell_voltage_tapers_near_the_limits_and_missing_data_blocks() -> None:
    assert limit_sources.cell_voltage(bms(cell_voltage_max_v=3.55), LIMITS).charge_w == 0.0
    assert limit_sources.cell_voltage(bms(cell_voltage_max_v=3.525), LIMITS).charge_w == pytest.approx(
        5_000.0
    )
    assert limit_sources.cell_voltage(bms(cell_voltage_min_v=3.0), LIMITS).discharge_w == 0.0
    missing = BmsReading(soc_pct=50.0, voltage_v=52.0, current_a=0.0)
    assert limit_sources.cell_voltage(missing, LIMITS) == PowerLimit("cell_voltage", 0.0, 0.0)
    assert limit_sources.temperature(missing, LIMITS) == PowerLimit("temperature", 0.0, 0.0)


def test_temperature_derating_curve_and_no_charge_below_freezing() -> None:
    hot = limit_sources.temperature(bms(cell_temp_max_c=50.0), LIMITS)
    assert hot.discharge_w == pytest.approx(5_000.0) and hot.charge_w == pytest.approx(5_000.0)
    cold = limit_sources.temperature(bms(cell_temp_min_c=-1.0), LIMITS)
    assert cold.charge_w == 0.0 and cold.discharge_w > 0.0


def test_software_limits_pick_soc_when_it_is_tightest() -> None:
    power_w, limited_by = settled(-8_000.0, limit_sources.software_limits(bms(soc_pct=89.0), LIMITS))
    assert (power_w, limited_by) == (pytest.approx(-3_333.3, abs=0.1), "soc")
