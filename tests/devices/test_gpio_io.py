"""GPIO with gpiozero's mock pins: fail-safe e-stop, debounced buttons with long press, LEDs, relays."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from sitecontroller.config.devices import ButtonConfig, GpioConfig, GpioOutputConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import InputsReading
from sitecontroller.devices.debounce import ButtonLogic
from sitecontroller.devices.gpio import GpioInputs, GpioOutputs

CONFIG = GpioConfig(
    pin_factory="mock",
    estop_pin=17,
    estop_debounce_s=0.1,
    buttons=(ButtonConfig(name="service", pin=5, debounce_s=0.05, long_press_s=3.0),),
    leds=(GpioOutputConfig(name="red", pin=18),),
    relays=(GpioOutputConfig(name="bms_wake", pin=23, active_high=False),),
)


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    mock = MockFactory(pin_class=MockPWMPin)
    yield mock
    mock.reset()
    mock.close()


def test_estop_pressed_is_active_on_the_next_read_and_open_wire_is_a_stop(factory: MockFactory) -> None:
    clock = SimClock()
    store = DataStore(clock)
    inputs = GpioInputs(CONFIG, store, clock, factory)
    estop = factory.pin(17)
    assert inputs.poll().estop_active  # nothing driven yet: an open chain is a stop (fail-safe)
    estop.drive_high()  # chain closed
    inputs.poll()
    clock.advance(0.1)
    assert not inputs.poll().estop_active
    estop.drive_low()  # e-stop pressed (or wire cut): the very next read says stop, no debounce
    reading = inputs.poll()
    assert reading.estop_active
    snap = store.snapshot().fresh("inputs")
    assert isinstance(snap, InputsReading) and snap.estop_active
    estop.drive_high()  # a bounce back closed does not release at once
    assert inputs.poll().estop_active
    clock.advance(0.1)
    assert not inputs.poll().estop_active


def test_button_short_and_long_press_are_debounced(factory: MockFactory) -> None:
    clock = SimClock()
    inputs = GpioInputs(CONFIG, DataStore(clock), clock, factory)
    events: list[tuple[str, str]] = []
    inputs.on_button(lambda name, kind: events.append((name, kind)))
    button = factory.pin(5)
    button.drive_low()  # pressed (pull-up, active low)
    inputs.poll()
    clock.advance(0.01)
    button.drive_high()  # a 10 ms bounce: ignored
    inputs.poll()
    clock.advance(0.1)
    inputs.poll()
    assert events == []
    button.drive_low()
    inputs.poll()
    clock.advance(0.06)
    assert inputs.poll().buttons == {"service": True}
    button.drive_high()
    inputs.poll()
    clock.advance(0.06)
    inputs.poll()
    button.drive_low()
    inputs.poll()
    clock.advance(0.06)
    inputs.poll()
    clock.advance(3.0)
    inputs.poll()
    button.drive_high()
    inputs.poll()
    clock.advance(0.06)
    inputs.poll()
    assert events == [("service", "short"), ("service", "long")]


def test_button_logic_long_press_reported_once() -> None:
    clock = SimClock()
    logic = ButtonLogic(clock, 0.0, 1.0)
    assert logic.update(True) is None
    clock.advance(1.0)
    assert logic.update(True) == "long"
    clock.advance(5.0)
    assert logic.update(True) is None
    assert logic.update(False) is None


def test_leds_and_relays_drive_their_pins(factory: MockFactory) -> None:
    outputs = GpioOutputs(CONFIG, factory)
    outputs.relay("bms_wake", True)
    assert not factory.pin(23).state  # active-low relay: on = pin low
    outputs.led("red", "on")
    assert factory.pin(18).state
    outputs.led("red", "blink_fast")
    outputs.led("red", "off")
    with pytest.raises(ValueError, match="unknown LED pattern"):
        outputs.led("red", "disco")
    with pytest.raises(KeyError):
        outputs.relay("nope", True)
    outputs.close()
