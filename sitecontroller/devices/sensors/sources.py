"""Sensor sources built from SensorConfig; each `read()` returns {value name: value} or raises OSError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sitecontroller.config.devices import SensorConfig, SensorsConfig
from sitecontroller.devices.sensors import ntc
from sitecontroller.devices.sensors.bme680 import Bme680, I2cBus

ADS1115_CONVERSION, ADS1115_CONFIG = 0x00, 0x01
ADS1115_FULL_SCALE_V = 4.096  # PGA +-4.096 V
ADS1115_MAX_POLLS = 200
BusOpener = Callable[[int], I2cBus]


class Sensor(Protocol):
    def read(self) -> dict[str, float]: ...


def open_smbus(bus: int) -> I2cBus:
    from smbus2 import SMBus  # only where I2C exists

    return SMBus(bus)


class CpuTemp:
    """The SoC temperature the kernel reports, in millidegrees."""

    def __init__(self, name: str, path: Path) -> None:
        self._name = name
        self._path = path

    def read(self) -> dict[str, float]:
        return {self._name: int(self._path.read_text().strip()) / 1000.0}


class I2cTemp:
    """A register holding a signed 16-bit big-endian value: LM75/TMP102 style (scale 1/256 °C)."""

    def __init__(self, config: SensorConfig, bus: I2cBus) -> None:
        self._config = config
        self._bus = bus

    def read(self) -> dict[str, float]:
        msb, lsb = self._bus.read_i2c_block_data(self._config.address, self._config.i2c_register, 2)
        raw = msb << 8 | lsb
        raw -= 65536 if raw > 32767 else 0
        return {self._config.name: raw * self._config.scale + self._config.offset}


class Ads1115:
    """One single-ended channel of an ADS1115, single-shot at 128 samples/s."""

    def __init__(self, bus: I2cBus, address: int, channel: int) -> None:
        self._bus = bus
        self._address = address
        # OS=1 start, MUX=1xx (AINx vs GND), PGA=001 (+-4.096 V), MODE=1 single-shot,
        # DR=100 (128 SPS), comparator disabled
        self._config_word = 0x8000 | (0x4 + channel) << 12 | 0x1 << 9 | 0x0100 | 0x0080 | 0x0003

    def volts(self) -> float:
        word = self._config_word
        self._bus.write_i2c_block_data(self._address, ADS1115_CONFIG, [word >> 8, word & 0xFF])
        # a conversion takes about 8 ms; each status read is an I2C transaction, so this is bounded
        for _ in range(ADS1115_MAX_POLLS):
            if self._bus.read_i2c_block_data(self._address, ADS1115_CONFIG, 2)[0] & 0x80:
                break
        else:
            raise OSError(f"ADS1115 at 0x{self._address:02x}: conversion did not finish")
        msb, lsb = self._bus.read_i2c_block_data(self._address, ADS1115_CONVERSION, 2)
        raw = msb << 8 | lsb
        raw -= 65536 if raw > 32767 else 0
        return raw * ADS1115_FULL_SCALE_V / 32768.0


class AnalogSensor:
    def __init__(self, config: SensorConfig, adc: Ads1115) -> None:
        self._config = config
        self._adc = adc

    def read(self) -> dict[str, float]:
        volts = self._adc.volts()
        if self._config.kind == "ntc":
            resistance = ntc.divider_resistance_ohm(volts, self._config.ntc)
            return {self._config.name: ntc.temperature_c(resistance, self._config.ntc)}
        return {self._config.name: volts * self._config.scale + self._config.offset}


class Bme680Sensor:
    def __init__(self, config: SensorConfig, bus: I2cBus) -> None:
        self._name = config.name
        self._device = Bme680(bus, config.address)

    def read(self) -> dict[str, float]:
        values = self._device.read()
        values[self._name] = values.pop("temp_c")
        return values


def make_sensor(config: SensorConfig, sensors: SensorsConfig, open_bus: BusOpener = open_smbus) -> Sensor:
    if config.kind == "cpu_temp":
        return CpuTemp(config.name, Path(sensors.cpu_temp_path))
    bus = open_bus(config.bus)
    if config.kind == "bme680":
        return Bme680Sensor(config, bus)
    if config.kind == "i2c_temp":
        return I2cTemp(config, bus)
    return AnalogSensor(config, Ads1115(bus, config.address, config.channel))
