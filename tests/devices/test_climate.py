"""Climate: hysteresis holds a simulated zone in its band (SimClock), ramp, manual force, presets, service."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from sitecontroller.config.devices import ClimateConfig, ClimateParameters, ClimateZoneConfig
from sitecontroller.core.clock import SimClock
from sitecontroller.core.datastore import DataStore
from sitecontroller.core.readings import ClimateReading, SensorReading
from sitecontroller.devices.climate.actuators import make_fans, make_heaters
from sitecontroller.devices.climate.controller import ClimateController
from sitecontroller.devices.climate.presets import load_presets, parameters_for
from sitecontroller.devices.climate.service import ClimateService
from sitecontroller.devices.errors import CLIMATE_SENSOR_LOST
from sitecontroller.safety.errors import ErrorHandler

CONFIG = ClimateConfig(enabled=True)
P = CONFIG.parameters


class Zone:
    """A lumped thermal model: internal heat, losses through the wall, fan air exchange, a heater."""

    def __init__(self, temp_c: float, ambient_c: float, load_w: float) -> None:
        self.temp_c, self.ambient_c, self.load_w = temp_c, ambient_c, load_w
        self.capacity_j_per_k = 50_000.0

    def step(self, dt_s: float, fan_pct: float, heater_on: bool) -> None:
        conductance_w_per_k = 10.0 + 2.0 * fan_pct  # wall + up to 200 W/K of air exchange
        heat_w = self.load_w + (500.0 if heater_on else 0.0)
        self.temp_c += (
            dt_s * (heat_w - conductance_w_per_k * (self.temp_c - self.ambient_c)) / self.capacity_j_per_k
        )


def simulate(zone: Zone, hours: float) -> list[float]:
    clock = SimClock()
    controller = ClimateController(CONFIG, clock)
    temps = []
    for _ in range(int(hours * 3600)):
        command = controller.step({"cabinet_temp_c": zone.temp_c})
        zone.step(1.0, command.fan_pct["fan1"], command.heater_on["heater1"])
        clock.advance(1.0)
        temps.append(zone.temp_c)
    return temps


def test_cooling_holds_the_zone_within_its_hysteresis_band() -> None:
    temps = simulate(Zone(temp_c=35.0, ambient_c=20.0, load_w=150.0), hours=4)
    settled = temps[3600:]
    low, high = P.cool_on_c - P.cool_band_c, P.cool_on_c
    assert low - 0.1 <= min(settled) and max(settled) <= high + 0.1  # only the fan ramp overshoots
    assert max(settled) - min(settled) > P.cool_band_c * 0.8  # it really cycles (hysteresis, no chatter)


def test_heating_holds_the_zone_within_its_hysteresis_band() -> None:
    temps = simulate(Zone(temp_c=0.0, ambient_c=-10.0, load_w=0.0), hours=4)
    settled = temps[3600:]
    assert P.heat_on_c - 0.1 <= min(settled) and max(settled) <= P.heat_on_c + P.heat_band_c + 0.1


def test_fan_speed_is_ramp_limited_and_proportional() -> None:
    clock = SimClock()
    controller = ClimateController(CONFIG, clock)
    controller.step({"cabinet_temp_c": 45.0})
    clock.advance(1.0)
    assert controller.step({"cabinet_temp_c": 45.0}).fan_pct["fan1"] == pytest.approx(P.fan_ramp_pct_per_s)
    clock.advance(60.0)
    assert controller.step({"cabinet_temp_c": 45.0}).fan_pct["fan1"] == pytest.approx(100.0)


def test_manual_force_expires_after_its_timeout() -> None:
    clock = SimClock()
    controller = ClimateController(CONFIG.model_copy(update={"manual_timeout_s": 60.0}), clock)
    controller.force("heater1", 1.0, duration_s=3600.0)  # capped at manual_timeout_s
    controller.force("fan1", 75.0)
    command = controller.step({"cabinet_temp_c": 20.0})
    assert command.heater_on["heater1"] and command.fan_pct["fan1"] == 75.0
    clock.advance(60.0)
    command = controller.step({"cabinet_temp_c": 20.0})
    assert not command.heater_on["heater1"]
    with pytest.raises(KeyError):
        controller.force("fan9", 10.0)


async def test_lost_sensor_ventilates_never_heats_and_raises() -> None:
    clock = SimClock()
    factory = MockFactory(pin_class=MockPWMPin)
    store = DataStore(clock)
    errors = ErrorHandler(clock)
    config = CONFIG.model_copy(update={"parameters": ClimateParameters(fan_ramp_pct_per_s=100.0)})
    controller = ClimateController(config, clock)
    service = ClimateService(
        controller, make_fans(config, factory, None), make_heaters(config, factory), store, clock, errors
    )
    store.put("sensors", SensorReading({"cabinet_temp_c": 2.0}))
    await service.tick()
    assert factory.pin(16).state  # heater on at 2 C
    store.put("sensors", SensorReading({}))
    clock.advance(1.0)
    await service.tick()
    assert not factory.pin(16).state
    assert factory.pin(12).state == pytest.approx(1.0)  # fan PWM at 100 %
    assert errors.is_active(CLIMATE_SENSOR_LOST)
    reading = store.snapshot().fresh("climate")
    assert isinstance(reading, ClimateReading) and reading.fan_speed_pct == {"fan1": 100.0}
    factory.close()


def test_presets_are_data_and_valid() -> None:
    presets = load_presets()
    assert set(presets) == {"BAT5", "BAT10", "BAT80"}
    assert parameters_for(ClimateConfig(preset="BAT80")) == presets["BAT80"]
    assert parameters_for(ClimateConfig()) == ClimateConfig().parameters


def test_multi_zone_fan_shared_takes_the_hotter_zone() -> None:
    clock = SimClock()
    zones = (
        ClimateZoneConfig(name="top", sensor="t_top", fans=("fan1",), heaters=()),
        ClimateZoneConfig(name="bottom", sensor="t_bot", fans=("fan1",), heaters=("heater1",)),
    )
    controller = ClimateController(ClimateConfig(zones=zones), clock)
    controller.step({"t_top": 40.0, "t_bot": 3.0})
    clock.advance(100.0)
    command = controller.step({"t_top": 40.0, "t_bot": 3.0})
    assert command.fan_pct["fan1"] == 100.0 and command.heater_on["heater1"]


async def test_factory_builds_climate_with_a_modbus_fan_and_preset() -> None:
    from sitecontroller.config.devices import FanConfig, ModbusLink
    from sitecontroller.devices.factory import Transports, build_climate
    from sitecontroller.devices.regmap import Point, RegisterMap, Source
    from sitecontroller.sim.device_emulators.register_server import RegisterEmulator, StaticPlant

    fan_board = RegisterMap(
        name="fan_board",
        kind="meter",
        source=Source(manual="test", version="1"),
        points={"fan_pct": Point(address=40, access="rw")},
    )
    plant = StaticPlant()
    emulator = RegisterEmulator(fan_board, plant)
    port = await emulator.start_tcp()
    clock = SimClock()
    transports = Transports(clock)
    factory = MockFactory(pin_class=MockPWMPin)
    try:
        config = ClimateConfig(
            enabled=True,
            preset="BAT5",
            modbus_link=ModbusLink(port=port),
            fans=(FanConfig(kind="modbus", modbus_register=40),),
        )
        store = DataStore(clock)
        service = build_climate(config, store, clock, transports, pin_factory=factory)
        assert service is not None and service.controller.params.cool_on_c == 30.0
        store.put("sensors", SensorReading({"cabinet_temp_c": 50.0}))
        clock.advance(100.0)
        await service.tick()
        clock.advance(100.0)
        await service.tick()
        assert plant.writes[-1] == ("fan_pct", 100.0)
        assert build_climate(ClimateConfig(), store, clock, transports) is None
    finally:
        transports.close()
        factory.close()
        await emulator.stop()
