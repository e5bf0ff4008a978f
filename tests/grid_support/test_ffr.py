from __future__ import annotations

import pytest

from masterController.grid_support.ffr import FULL_ACTIVATION_S, Ffr, FfrPhase


def make(support_s: float = 30.0, level_hz: float = 49.7) -> Ffr:
    return Ffr(1_000.0, level_hz, support_s, deactivation_rate_pct_per_s=20.0, rearm_s=900.0)


def test_steps_to_full_capacity_in_the_tick_that_sees_the_trigger() -> None:
    ffr = make()
    assert ffr.update(49.71, 0.0) == 0.0
    assert ffr.update(49.70, 0.1) == 1_000.0
    assert ffr.phase is FfrPhase.ACTIVE


def test_holds_support_then_deactivates_at_the_rate_then_rearms_after_15_min() -> None:
    ffr = make(support_s=5.0)
    ffr.update(49.6, 10.0)
    hold_s = 5.0 + FULL_ACTIVATION_S[49.7]
    assert ffr.update(50.0, 10.0 + hold_s - 0.01) == 1_000.0  # independent of the frequency recovering
    ffr.update(50.0, 10.0 + hold_s)
    assert ffr.phase is FfrPhase.DEACTIVATING
    assert ffr.update(50.0, 10.0 + hold_s + 1.0) == pytest.approx(800.0)  # 20 %/s
    assert ffr.update(50.0, 10.0 + hold_s + 5.1) == 0.0
    assert ffr.phase is FfrPhase.RECOVERING
    assert ffr.update(49.5, 500.0) == 0.0  # not re-armed yet: no second activation
    assert ffr.update(49.5, 911.0) == 0.0  # 15 min passed but still below the level: wait
    ffr.update(50.0, 912.0)
    assert ffr.phase is FfrPhase.ARMED
    assert ffr.update(49.6, 913.0) == 1_000.0


def test_bad_level_is_an_error() -> None:
    with pytest.raises(ValueError):
        make(level_hz=49.8)
