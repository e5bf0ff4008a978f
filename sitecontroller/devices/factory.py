"""Build drivers from configuration: `inverter.type` / `meter.type` name a map file, a map family
(identified by its model-id register), or "sunspec" (scanned). Adding a device of a supported
protocol family means adding a map file in config/devices/, not editing this module.
"""

from __future__ import annotations

from pathlib import Path

from gpiozero.pins import Factory

from sitecontroller.config.devices import ClimateConfig, InverterConfig, MeterConfig, ModbusLink
from sitecontroller.core.clock import Clock
from sitecontroller.core.datastore import DataStore
from sitecontroller.devices import maploader, sunspec
from sitecontroller.devices.climate.actuators import make_fans, make_heaters
from sitecontroller.devices.climate.controller import ClimateController
from sitecontroller.devices.climate.presets import parameters_for
from sitecontroller.devices.climate.service import ClimateService
from sitecontroller.devices.engine import RegisterDevice
from sitecontroller.devices.inverter import MapInverter
from sitecontroller.devices.maploader import DEFAULT_MAP_DIR, MapError
from sitecontroller.devices.meter import MapMeter
from sitecontroller.devices.regmap import RegisterMap
from sitecontroller.devices.transport import DeviceIOError, Transport
from sitecontroller.safety.errors import ErrorHandler

SUNSPEC = "sunspec"


class Transports:
    """One Transport per physical link, so devices on one RS-485 line share it (and its lock)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._by_link: dict[tuple[str, str, int], Transport] = {}

    def get(self, link: ModbusLink) -> Transport:
        key = (link.serial_port, link.host, 0 if link.serial_port else link.port)
        if key not in self._by_link:
            self._by_link[key] = Transport(link, self._clock)
        return self._by_link[key]

    def close(self) -> None:
        for transport in self._by_link.values():
            transport.close()


async def resolve_map(
    kind: str, type_name: str, transport: Transport, unit: int, map_dir: Path = DEFAULT_MAP_DIR
) -> RegisterMap:
    """The map for a device: by name, by family + model-id register, or by SunSpec scan (needs I/O)."""
    if type_name == SUNSPEC:
        _, refs = await sunspec.scan(transport, unit)
        return sunspec.build_map(refs, await _sunspec_rating_w(transport, unit, refs))
    try:
        regmap = maploader.load_map(type_name, map_dir)
    except MapError:
        regmap = await identify(maploader.family_maps(type_name, map_dir), transport, unit, type_name)
    if regmap.kind != kind:
        raise MapError(f"map {regmap.name} is a {regmap.kind} map, not a {kind} map")
    return regmap


async def identify(
    candidates: list[RegisterMap], transport: Transport, unit: int, family: str
) -> RegisterMap:
    """Read the model-id register the family shares and pick the map that claims that id."""
    if not candidates:
        raise MapError(f"no register map or map family named {family!r}")
    probe = candidates[0]
    if probe.identify is None:
        raise MapError(f"map family {family!r} has no identify register")
    device = RegisterDevice(probe, transport, unit, transport.clock)
    model_id = int((await device.read_points([probe.identify.point]))[probe.identify.point] or -1)
    for regmap in candidates:
        if regmap.identify is not None and model_id in regmap.identify.values:
            return regmap
    raise MapError(f"{family}: model id {model_id} is not in any of {[m.name for m in candidates]}")


async def _sunspec_rating_w(transport: Transport, unit: int, refs: list[sunspec.ModelRef]) -> float | None:
    capacity = next((ref for ref in refs if ref.model_id == 702), None)
    if capacity is None:
        return None
    device = RegisterDevice(sunspec.points_map([capacity]), transport, unit, transport.clock)
    try:
        values = await device.read_points(["m702_wmaxrtg"])
    except DeviceIOError:
        return None
    rating = values["m702_wmaxrtg"]
    return rating if isinstance(rating, float) and rating > 0 else None


async def build_inverter(
    config: InverterConfig,
    store: DataStore,
    clock: Clock,
    transports: Transports,
    errors: ErrorHandler | None = None,
    map_dir: Path = DEFAULT_MAP_DIR,
) -> MapInverter:
    transport = transports.get(config.link)
    regmap = await resolve_map("inverter", config.type, transport, config.link.unit, map_dir)
    device = RegisterDevice(regmap, transport, config.link.unit, clock)
    return MapInverter(device, store, clock, config, errors)


async def build_meter(
    config: MeterConfig,
    store: DataStore,
    clock: Clock,
    transports: Transports,
    map_dir: Path = DEFAULT_MAP_DIR,
) -> MapMeter:
    transport = transports.get(config.link)
    regmap = await resolve_map("meter", config.type, transport, config.link.unit, map_dir)
    return MapMeter(RegisterDevice(regmap, transport, config.link.unit, clock), store, clock, config)


def build_climate(
    config: ClimateConfig,
    store: DataStore,
    clock: Clock,
    transports: Transports,
    errors: ErrorHandler | None = None,
    pin_factory: Factory | None = None,
) -> ClimateService | None:
    """The climate loop with its preset and actuators; None when climate control is disabled."""
    if not config.enabled:
        return None
    controller = ClimateController(config, clock, parameters_for(config))
    needs_modbus = any(fan.kind == "modbus" for fan in config.fans)
    transport = transports.get(config.modbus_link) if needs_modbus else None
    fans = make_fans(config, pin_factory, transport)
    return ClimateService(controller, fans, make_heaters(config, pin_factory), store, clock, errors)
