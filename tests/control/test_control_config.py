from __future__ import annotations

import pytest
from pydantic import ValidationError

from sitecontroller.config.control import ControlConfig, CostSavingConfig, PeakShavingConfig


def test_defaults_are_valid_and_round_trip_through_json() -> None:
    config = ControlConfig()
    assert ControlConfig.model_validate_json(config.model_dump_json()) == config
    assert config.site.fuse_limit_w == pytest.approx(250.0 * 230.0 * 3)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('{"default_mode": "backup"}', "backup.enabled"),
        ('{"default_mode": "local_control"}', "selected at the site"),
        ('{"default_mode": "warp"}', "default_mode"),
        ('{"cycle_s": "1"}', "cycle_s"),
        ('{"self_consumption": {"pid": {"kp": -1}}}', "kp"),
        ('{"site": {"grid_import_limit_w": 0}}', "grid_import_limit_w"),
        ('{"grid_services": {"ffr": {"activation_level_hz": 49.8}}}', "activation_level_hz"),
        ('{"grid_services": {"lfsm": {"f3_hz": 50.1, "f4_hz": 50.05}}}', "f1 < f2 < f3 < f4"),
        ('{"extra": 1}', "extra"),
        (
            '{"external_control": {"local_schedule": [{"start_s": 90000, "duration_s": 60, "power_w": 1, '
            '"daily": true}]}}',
            "daily entry",
        ),
    ],
)
def test_bad_config_is_rejected_with_the_field_named(payload: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ControlConfig.model_validate_json(payload)


def test_cross_field_rules() -> None:
    with pytest.raises(ValidationError, match="recharge_below_w"):
        PeakShavingConfig(import_limit_w=10_000.0, recharge_below_w=20_000.0)
    with pytest.raises(ValidationError, match="charge_below_price"):
        CostSavingConfig(charge_below_price=0.3, discharge_above_price=0.2)
