"""Configuration of the node's non-BMS devices: inverter, meters, climate, sensors, GPIO, watchdog.

Every model is valid with its defaults (a simulated site on loopback), so `SiteConfig()` works.
Register maps themselves are data files in `config/devices/`; these models only say which map,
where the device is and how the site wants it driven.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sitecontroller.config.base import StrictModel

Parity = Literal["N", "E", "O"]


class ModbusLink(StrictModel):
    """Where a Modbus device is: TCP when `serial_port` is empty, RTU on that port otherwise."""

    host: str = "127.0.0.1"
    port: int = Field(default=5020, ge=1, le=65535)
    unit: int = Field(default=1, ge=0, le=247)
    serial_port: str = ""
    baudrate: int = Field(default=19200, ge=1200, le=921600)
    parity: Parity = "N"
    stopbits: int = Field(default=1, ge=1, le=2)
    request_timeout_s: float = Field(default=0.5, gt=0.0, le=10.0)
    reconnect_min_s: float = Field(default=0.1, gt=0.0, le=60.0)
    reconnect_max_s: float = Field(default=10.0, gt=0.0, le=600.0)


class InverterConfig(StrictModel):
    """`type` names a map file in `config/devices/` (or "sunspec" for a SunSpec DER scanned at start)."""

    type: str = Field(default="abb_pqstori", pattern=r"^[a-z0-9_]+$")
    link: ModbusLink = ModbusLink()
    poll_interval_s: float = Field(default=0.1, gt=0.0, le=60.0)
    timeout_s: float = Field(default=1.0, gt=0.0, le=60.0)
    max_power_w: float = Field(default=100_000.0, gt=0.0, le=10_000_000.0)
    max_reactive_power_var: float = Field(default=100_000.0, ge=0.0, le=10_000_000.0)
    ramp_w_per_s: float = Field(default=50_000.0, gt=0.0, le=100_000_000.0)
    heartbeat_interval_s: float = Field(default=5.0, gt=0.0, le=20.0)


MeterRole = Literal["grid", "pv", "load"]


class MeterConfig(StrictModel):
    """`type` is a map file name, "em24" (RS485/Ethernet map picked by the model-id register) or "sunspec"."""

    type: str = Field(default="em24", pattern=r"^[a-z0-9_]+$")
    role: MeterRole = "grid"
    link: ModbusLink = ModbusLink(port=5021)
    poll_interval_s: float = Field(default=0.2, gt=0.0, le=60.0)
    timeout_s: float = Field(default=2.0, gt=0.0, le=60.0)


class ClimateZoneConfig(StrictModel):
    name: str = Field(default="cabinet", min_length=1)
    sensor: str = Field(default="cabinet_temp_c", min_length=1)
    fans: tuple[str, ...] = ("fan1",)
    heaters: tuple[str, ...] = ("heater1",)


class ClimateParameters(StrictModel):
    """One product's thresholds; presets for BAT5/BAT10/BAT80 live in config/devices/climate_presets.json."""

    cool_on_c: float = Field(default=30.0, ge=-40.0, le=80.0)
    cool_band_c: float = Field(default=3.0, gt=0.0, le=20.0)
    full_speed_c: float = Field(default=40.0, ge=-40.0, le=90.0)
    min_fan_pct: float = Field(default=20.0, ge=0.0, le=100.0)
    heat_on_c: float = Field(default=5.0, ge=-40.0, le=40.0)
    heat_band_c: float = Field(default=3.0, gt=0.0, le=20.0)
    fan_ramp_pct_per_s: float = Field(default=10.0, gt=0.0, le=100.0)
    over_temp_c: float = Field(default=50.0, ge=0.0, le=100.0)
    under_temp_c: float = Field(default=-10.0, ge=-60.0, le=40.0)

    @model_validator(mode="after")
    def _ordered(self) -> ClimateParameters:
        if not self.heat_on_c + self.heat_band_c < self.cool_on_c - self.cool_band_c:
            raise ValueError("heating band must lie below the cooling band")
        if not self.cool_on_c < self.full_speed_c:
            raise ValueError("full_speed_c must be above cool_on_c")
        return self


class FanConfig(StrictModel):
    name: str = Field(default="fan1", min_length=1)
    kind: Literal["pwm", "modbus"] = "pwm"
    pin: int = Field(default=12, ge=0, le=40)
    modbus_register: int = Field(default=0, ge=0, le=65535)


class HeaterConfig(StrictModel):
    name: str = Field(default="heater1", min_length=1)
    pin: int = Field(default=16, ge=0, le=40)
    active_high: bool = True


class ClimateConfig(StrictModel):
    """Off by default: a site without cabinet sensors and fans must not raise climate errors."""

    enabled: bool = False
    preset: Literal["", "BAT5", "BAT10", "BAT80"] = ""
    parameters: ClimateParameters = ClimateParameters()
    zones: tuple[ClimateZoneConfig, ...] = (ClimateZoneConfig(),)
    fans: tuple[FanConfig, ...] = (FanConfig(),)
    heaters: tuple[HeaterConfig, ...] = (HeaterConfig(),)
    manual_timeout_s: float = Field(default=3600.0, gt=0.0, le=86_400.0)
    interval_s: float = Field(default=1.0, gt=0.0, le=60.0)
    modbus_link: ModbusLink = ModbusLink(port=5022)


class NtcConfig(StrictModel):
    """NTC thermistor in a divider: Steinhart-Hart when a, b, c are all given, else the beta model."""

    r25_ohm: float = Field(default=10_000.0, gt=0.0)
    beta_k: float = Field(default=3950.0, gt=0.0)
    sh_a: float | None = None
    sh_b: float | None = None
    sh_c: float | None = None
    series_ohm: float = Field(default=10_000.0, gt=0.0)
    supply_v: float = Field(default=3.3, gt=0.0, le=30.0)


class SensorConfig(StrictModel):
    """One sensor; its value is published under `name` in the "sensors" reading.

    A BME680 publishes `name` (temperature) plus humidity_pct, pressure_hpa and gas_resistance_ohm.
    """

    name: str = Field(default="pi_temp_c", min_length=1, pattern=r"^[a-z0-9_]+$")
    kind: Literal["cpu_temp", "bme680", "i2c_temp", "adc", "ntc"] = "cpu_temp"
    bus: int = Field(default=1, ge=0, le=32)
    address: int = Field(default=0x48, ge=0x03, le=0x77)
    i2c_register: int = Field(default=0, ge=0, le=255)
    channel: int = Field(default=0, ge=0, le=3)
    scale: float = 1.0
    offset: float = 0.0
    ntc: NtcConfig = NtcConfig()


class SensorsConfig(StrictModel):
    poll_interval_s: float = Field(default=5.0, gt=0.0, le=3600.0)
    sensors: tuple[SensorConfig, ...] = (SensorConfig(),)
    cpu_temp_path: str = "/sys/class/thermal/thermal_zone0/temp"


class ButtonConfig(StrictModel):
    name: str = Field(default="service", min_length=1)
    pin: int = Field(default=5, ge=0, le=40)
    debounce_s: float = Field(default=0.05, ge=0.0, le=1.0)
    long_press_s: float = Field(default=3.0, gt=0.0, le=60.0)


class GpioOutputConfig(StrictModel):
    name: str = Field(default="status_led", min_length=1)
    pin: int = Field(default=18, ge=0, le=40)
    active_high: bool = True


class GpioConfig(StrictModel):
    """BCM pin numbers. The e-stop input reads high while the stop chain is closed (fail-safe)."""

    enabled: bool = True
    pin_factory: Literal["auto", "mock"] = "auto"
    estop_pin: int = Field(default=17, ge=0, le=40)
    estop_closed_level_high: bool = True
    estop_debounce_s: float = Field(default=0.02, ge=0.0, le=1.0)
    buttons: tuple[ButtonConfig, ...] = (ButtonConfig(),)
    leds: tuple[GpioOutputConfig, ...] = (GpioOutputConfig(),)
    relays: tuple[GpioOutputConfig, ...] = ()
    poll_interval_s: float = Field(default=0.05, gt=0.0, le=1.0)


class WatchdogConfig(StrictModel):
    """The hardware watchdog (/dev/watchdog); the systemd heartbeat is the runtime's."""

    enabled: bool = False
    device: str = "/dev/watchdog"
    timeout_s: int = Field(default=15, ge=1, le=255)
    pet_interval_s: float = Field(default=5.0, gt=0.0, le=60.0)

    @model_validator(mode="after")
    def _pet_often_enough(self) -> WatchdogConfig:
        if self.pet_interval_s >= self.timeout_s:
            raise ValueError("pet_interval_s must be shorter than timeout_s")
        return self
