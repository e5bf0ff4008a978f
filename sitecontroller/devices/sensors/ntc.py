"""NTC thermistor maths (pure): divider voltage -> resistance -> temperature (beta or Steinhart-Hart)."""

from __future__ import annotations

import math

from sitecontroller.config.devices import NtcConfig

KELVIN = 273.15


def divider_resistance_ohm(volts: float, config: NtcConfig) -> float:
    """The NTC sits between the ADC input and ground, the series resistor between supply and input."""
    if not 0.0 < volts < config.supply_v:
        raise ValueError(f"NTC input {volts} V outside (0, {config.supply_v}) V: open or shorted sensor")
    return config.series_ohm * volts / (config.supply_v - volts)


def temperature_c(resistance_ohm: float, config: NtcConfig) -> float:
    if resistance_ohm <= 0:
        raise ValueError("NTC resistance must be positive")
    ln_r = math.log(resistance_ohm)
    if config.sh_a is not None and config.sh_b is not None and config.sh_c is not None:
        return 1.0 / (config.sh_a + config.sh_b * ln_r + config.sh_c * ln_r**3) - KELVIN
    inverse_t = 1.0 / (25.0 + KELVIN) + math.log(resistance_ohm / config.r25_ohm) / config.beta_k
    return 1.0 / inverse_t - KELVIN
