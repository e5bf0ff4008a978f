"""Identify a Modbus device: SunSpec scan, then the model-id registers of the supported maps."""

from __future__ import annotations

from pathlib import Path

import sunspec2.device as ssdev
from sunspec2.mdef import ModelDefinitionError

from sitecontroller.config.devices import ModbusLink
from sitecontroller.core.clock import SystemClock
from sitecontroller.devices import maploader, sunspec
from sitecontroller.devices.engine import RegisterDevice
from sitecontroller.devices.maploader import DEFAULT_MAP_DIR
from sitecontroller.devices.transport import DeviceIOError, Transport


async def scan_device(link: ModbusLink, map_dir: Path = DEFAULT_MAP_DIR) -> list[str]:
    """Human-readable findings; empty when nothing answered in a way we know."""
    transport = Transport(link, SystemClock())
    try:
        found = await _sunspec_findings(transport, link.unit)
        return found + await _map_findings(transport, link.unit, map_dir)
    finally:
        transport.close()


async def _sunspec_findings(transport: Transport, unit: int) -> list[str]:
    try:
        base, refs = await sunspec.scan(transport, unit)
    except DeviceIOError:
        return []
    lines = [f"SunSpec device, base address {base}:"]
    for ref in refs:
        try:
            label = ssdev.get_model_def(ref.model_id)["group"]["name"]
        except ModelDefinitionError:  # a vendor model pysunspec2 does not ship
            label = "(no definition)"
        lines.append(f"  model {ref.model_id:5d} {label:<24} at {ref.address}, {ref.length} registers")
    common = next((ref for ref in refs if ref.model_id == 1), None)
    if common is not None:
        device = RegisterDevice(sunspec.points_map([common]), transport, unit, transport.clock)
        values = await device.read_points(["m1_mn", "m1_md", "m1_vr", "m1_sn"])
        text = "  manufacturer {m1_mn}, model {m1_md}, version {m1_vr}, serial {m1_sn}"
        lines.append(text.format(**values))
    return lines


async def _map_findings(transport: Transport, unit: int, map_dir: Path) -> list[str]:
    lines: list[str] = []
    seen: dict[tuple[str, int, str], int | None] = {}
    for regmap in maploader.all_maps(map_dir).values():
        if regmap.identify is None:
            continue
        point = regmap.points[regmap.identify.point]
        key = (point.table, point.address, point.type)
        if key not in seen:
            device = RegisterDevice(regmap, transport, unit, transport.clock)
            try:
                value = (await device.read_points([regmap.identify.point]))[regmap.identify.point]
                seen[key] = None if value is None else int(float(value))
            except DeviceIOError:
                seen[key] = None
        model_id = seen[key]
        if model_id is not None and model_id in regmap.identify.values:
            where = f"model id {model_id} at {point.table} register 0x{point.address:04X}"
            lines.append(f"register map {regmap.name} ({regmap.source.manual}): {where}")
    return lines


async def meter_setup(link: ModbusLink, type_name: str, map_dir: Path = DEFAULT_MAP_DIR) -> str:
    """Run the map's "setup" command (identifying the map first for a family name); says what it did."""
    from sitecontroller.devices.factory import resolve_map

    transport = Transport(link, SystemClock())
    try:
        regmap = await resolve_map("meter", type_name, transport, link.unit, map_dir)
        await RegisterDevice(regmap, transport, link.unit, transport.clock).command("setup")
    except DeviceIOError as exc:
        raise OSError(str(exc)) from exc
    finally:
        transport.close()
    steps = ", ".join(f"{s.write}={s.value:g}" for s in regmap.commands["setup"].steps)
    return f"{regmap.name}: wrote {steps} and read it back"
