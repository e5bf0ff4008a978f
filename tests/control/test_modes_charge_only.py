from __future__ import annotations

from collections.abc import Callable

from masterController.control.modes.charge_only import ChargeOnly
from masterController.control.snapshot import SiteSnapshot
from sitecontroller.config.control import ChargeOnlyConfig, ScheduleEntry, SiteLimitsConfig

Snap = Callable[..., SiteSnapshot]
T0 = 1_767_225_600.0


def ctrl(**kw: object) -> ChargeOnly:
    params = ChargeOnlyConfig(target_soc_pct=80.0, hysteresis_pct=3.0, charge_power_w=10_000.0,
                              grid_import_limit_w=30_000.0, **kw)  # type: ignore[arg-type]  # fmt: skip
    return ChargeOnly(params, SiteLimitsConfig(), 0)


def test_charges_at_the_configured_rate(snap: Snap) -> None:
    c = ctrl()
    decision, _ = c.decide(snap(grid_power_w=5_000.0), c.start(snap()))
    assert decision.power_w == -10_000.0


def test_grid_import_limit_caps_the_charge(snap: Snap) -> None:
    c = ctrl()
    decision, _ = c.decide(snap(grid_power_w=25_000.0), c.start(snap()))
    assert decision.power_w == -5_000.0 and "limited" in decision.reason
    decision, _ = c.decide(snap(grid_power_w=35_000.0), c.start(snap()))
    assert decision.power_w == 0.0


def test_stops_at_target_with_hysteresis_and_never_discharges(snap: Snap) -> None:
    c = ctrl()
    state = c.start(snap())
    decision, state = c.decide(snap(soc_pct=80.0), state)
    assert decision.power_w == 0.0
    decision, state = c.decide(snap(soc_pct=78.0), state)
    assert decision.power_w == 0.0  # inside the hysteresis band
    decision, state = c.decide(snap(soc_pct=76.5), state)
    assert decision.power_w == -10_000.0
    decision, _ = c.decide(snap(soc_pct=50.0, grid_power_w=-20_000.0), state)
    assert decision.power_w <= 0.0


def test_charges_only_inside_its_windows(snap: Snap) -> None:
    window = ScheduleEntry(start_s=2 * 3600.0, duration_s=3 * 3600.0, power_w=0.0, daily=True)
    c = ctrl(windows=(window,))
    decision, _ = c.decide(snap(wall_s=T0 + 3 * 3600.0), c.start(snap()))
    assert decision.power_w == -10_000.0
    decision, _ = c.decide(snap(wall_s=T0 + 6 * 3600.0), c.start(snap()))
    assert decision.power_w == 0.0 and "outside" in decision.reason
