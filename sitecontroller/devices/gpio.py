"""GPIO through gpiozero: the e-stop input, buttons, LEDs and relays, with pins from GpioConfig.

gpiozero picks lgpio / RPi.GPIO itself, and only when a pin is first used, so importing this module
never touches hardware libraries; tests and the simulator use its mock pin factory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from gpiozero import DigitalInputDevice, DigitalOutputDevice
from gpiozero.pins import Factory

from sitecontroller.config.devices import GpioConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import InputsReading
from sitecontroller.devices.debounce import ButtonLogic, EstopLogic, Press

SOURCE = "inputs"
ButtonListener = Callable[[str, Press], None]
# LED patterns: (on_s, off_s) blink, or steady
PATTERNS: dict[str, tuple[float, float] | bool] = {
    "off": False,
    "on": True,
    "blink_slow": (1.0, 1.0),
    "blink_fast": (0.2, 0.2),
}


def pin_factory(config: GpioConfig) -> Factory | None:
    """The mock factory (with PWM) for "mock"; None lets gpiozero choose the Pi's own."""
    if config.pin_factory != "mock":
        return None
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    return MockFactory(pin_class=MockPWMPin)


class GpioInputs:
    """Reads the e-stop chain and buttons every poll and publishes InputsReading as "inputs"."""

    def __init__(
        self, config: GpioConfig, store: DataStore, clock: Clock, factory: Factory | None = None
    ) -> None:
        self._config = config
        self._store = store
        # pull towards "open": a broken wire or a missing connector reads as a pressed e-stop
        pull_up = not config.estop_closed_level_high
        self._estop = DigitalInputDevice(config.estop_pin, pull_up=pull_up, pin_factory=factory)
        self._estop_logic = EstopLogic(clock, config.estop_debounce_s)
        self._buttons = {
            b.name: (
                DigitalInputDevice(b.pin, pull_up=True, pin_factory=factory),
                ButtonLogic(clock, b.debounce_s, b.long_press_s),
            )
            for b in config.buttons
        }
        self._listeners: list[ButtonListener] = []

    def on_button(self, listener: ButtonListener) -> None:
        self._listeners.append(listener)

    def read(self) -> InputsReading:
        # the raw level, not gpiozero's is_active (which the pull direction inverts)
        chain_closed = bool(self._estop.pin.state) == self._config.estop_closed_level_high
        estop_active = self._estop_logic.update(chain_closed)
        for name, (device, logic) in self._buttons.items():
            event = logic.update(bool(device.is_active))
            if event is not None:
                for listener in self._listeners:
                    listener(name, event)
        buttons = {name: logic.pressed for name, (_, logic) in self._buttons.items()}
        return InputsReading(estop_active=estop_active, buttons=buttons)

    def poll(self) -> InputsReading:
        reading = self.read()
        self._store.put(SOURCE, reading)
        return reading

    async def run(self) -> None:
        while True:
            self.poll()
            await asyncio.sleep(self._config.poll_interval_s)

    def close(self) -> None:
        self._estop.close()
        for device, _ in self._buttons.values():
            device.close()


class GpioOutputs:
    """LEDs (steady or blinking) and relays, by configured name."""

    def __init__(self, config: GpioConfig, factory: Factory | None = None) -> None:
        def output(pin: int, active_high: bool) -> DigitalOutputDevice:
            return DigitalOutputDevice(pin, active_high=active_high, pin_factory=factory)

        self._leds = {o.name: output(o.pin, o.active_high) for o in config.leds}
        self._relays = {o.name: output(o.pin, o.active_high) for o in config.relays}

    def led(self, name: str, pattern: str) -> None:
        if name not in self._leds:
            raise KeyError(f"no LED named {name!r} in the GPIO configuration")
        if pattern not in PATTERNS:
            raise ValueError(f"unknown LED pattern {pattern!r}; known: {sorted(PATTERNS)}")
        device, shape = self._leds[name], PATTERNS[pattern]
        if isinstance(shape, tuple):
            device.blink(on_time=shape[0], off_time=shape[1], background=True)
        else:
            device.value = shape

    def relay(self, name: str, on: bool) -> None:
        if name not in self._relays:
            raise KeyError(f"no relay named {name!r} in the GPIO configuration")
        self._relays[name].value = on

    def close(self) -> None:
        for device in (*self._leds.values(), *self._relays.values()):
            device.close()
