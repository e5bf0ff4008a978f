"""Fans (PWM pin or a Modbus register, 0-100 %) and heaters (on/off pin) behind one async interface."""

from __future__ import annotations

from typing import Protocol

from gpiozero import DigitalOutputDevice, PWMOutputDevice
from gpiozero.pins import Factory

from sitecontroller.config.devices import ClimateConfig, FanConfig, HeaterConfig
from sitecontroller.devices.transport import Transport


class Fan(Protocol):
    async def set_pct(self, pct: float) -> None: ...


class PwmFan:
    def __init__(self, config: FanConfig, factory: Factory | None) -> None:
        self._device = PWMOutputDevice(config.pin, pin_factory=factory)

    async def set_pct(self, pct: float) -> None:
        self._device.value = max(0.0, min(100.0, pct)) / 100.0


class ModbusFan:
    def __init__(self, config: FanConfig, transport: Transport, unit: int) -> None:
        self._register = config.modbus_register
        self._transport = transport
        self._unit = unit

    async def set_pct(self, pct: float) -> None:
        await self._transport.write("holding", self._register, [round(max(0.0, min(100.0, pct)))], self._unit)


class Heater:
    def __init__(self, config: HeaterConfig, factory: Factory | None) -> None:
        self._device = DigitalOutputDevice(config.pin, active_high=config.active_high, pin_factory=factory)

    async def set_on(self, on: bool) -> None:
        self._device.value = on


def make_fans(config: ClimateConfig, factory: Factory | None, transport: Transport | None) -> dict[str, Fan]:
    fans: dict[str, Fan] = {}
    for fan in config.fans:
        if fan.kind == "pwm":
            fans[fan.name] = PwmFan(fan, factory)
        elif transport is None:
            raise ValueError(f"fan {fan.name} is a Modbus fan but no Modbus transport was given")
        else:
            fans[fan.name] = ModbusFan(fan, transport, config.modbus_link.unit)
    return fans


def make_heaters(config: ClimateConfig, factory: Factory | None) -> dict[str, Heater]:
    return {heater.name: Heater(heater, factory) for heater in config.heaters}
