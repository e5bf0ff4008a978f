"""Emulators by configuration type, for the simulated site: the same `inverter.type` / `meter.type`
strings the production factory reads, served from plant callbacks over pymodbus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sitecontroller.devices import maploader
from sitecontroller.devices.maploader import DEFAULT_MAP_DIR, MapError
from sitecontroller.devices.regmap import RegisterMap
from sitecontroller.devices.sunspec import build_map, layout
from sitecontroller.sim.device_emulators.plant_ports import InverterPort, MeterPort, PlantValues
from sitecontroller.sim.device_emulators.register_server import RegisterEmulator
from sitecontroller.sim.device_emulators.sunspec_server import DER_INVERTER_MODELS, sunspec_emulator

SUNSPEC = "sunspec"
SUNSPEC_METER_MODELS = (1, 203)


def _map_for(type_name: str, map_dir: Path) -> RegisterMap:
    try:
        return maploader.load_map(type_name, map_dir)
    except MapError:
        family = maploader.family_maps(type_name, map_dir)
        if not family:
            raise
        return family[0]  # a family name: serve its first member, with that member's model id


def _identity(regmap: RegisterMap) -> dict[str, float | str]:
    return {} if regmap.identify is None else {regmap.identify.point: regmap.identify.values[0]}


def inverter_emulator(
    type_name: str,
    read: Callable[[], PlantValues],
    command: Callable[[float], None],
    rated_power_w: float,
    unit: int = 1,
    on_command: Callable[[str], None] | None = None,
    map_dir: Path = DEFAULT_MAP_DIR,
) -> RegisterEmulator:
    """`read()` gives the plant's state; `command(power_w)` receives setpoints (discharge positive)."""
    if type_name == SUNSPEC:
        port = InverterPort(build_map(layout(DER_INVERTER_MODELS)), read, command, rated_power_w, on_command)
        return sunspec_emulator(port, DER_INVERTER_MODELS, unit)[0]
    regmap = _map_for(type_name, map_dir)
    port = InverterPort(regmap, read, command, rated_power_w, on_command, _identity(regmap))
    return RegisterEmulator(regmap, port, unit)


def meter_emulator(
    type_name: str, read: Callable[[], PlantValues], unit: int = 1, map_dir: Path = DEFAULT_MAP_DIR
) -> RegisterEmulator:
    """`read()` gives the meter's view (import positive)."""
    if type_name == SUNSPEC:
        port = MeterPort(build_map(layout(SUNSPEC_METER_MODELS)), read)
        return sunspec_emulator(port, SUNSPEC_METER_MODELS, unit)[0]
    regmap = _map_for(type_name, map_dir)
    return RegisterEmulator(regmap, MeterPort(regmap, read, _identity(regmap)), unit)
