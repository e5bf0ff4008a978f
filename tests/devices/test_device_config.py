"""Device configuration models: valid with defaults, strict, ranges and cross-field rules enforced."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sitecontroller.config.devices import (
    ClimateConfig,
    ClimateParameters,
    GpioConfig,
    InverterConfig,
    MeterConfig,
    ModbusLink,
    SensorsConfig,
    WatchdogConfig,
)


def test_every_model_is_valid_with_defaults() -> None:
    for model in (InverterConfig, MeterConfig, ClimateConfig, SensorsConfig, GpioConfig, WatchdogConfig):
        assert model() == model.model_validate_json(model().model_dump_json())


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        InverterConfig.model_validate_json('{"type": "ABB PQstorI"}')  # not a map file name
    with pytest.raises(ValidationError):
        ModbusLink.model_validate_json('{"port": "502"}')  # strict: no strings for numbers
    with pytest.raises(ValidationError):
        MeterConfig.model_validate_json('{"role": "battery"}')
    with pytest.raises(ValidationError, match="heating band"):
        ClimateParameters(heat_on_c=28.0)
    with pytest.raises(ValidationError, match="pet_interval_s"):
        WatchdogConfig(timeout_s=5, pet_interval_s=5.0)
    with pytest.raises(ValidationError):
        GpioConfig.model_validate_json('{"estop_pin": 99}')
