"""Map files: every one loads and carries its source; the loader refuses bad maps with clear reasons;
read coalescing stays within 125 registers; the docs generator and the scan tool work on them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from sitecontroller.config.devices import ModbusLink
from sitecontroller.core import jsonc
from sitecontroller.devices import mapdoc
from sitecontroller.devices.cli import register
from sitecontroller.devices.maploader import MapError, all_maps, load_map_file
from sitecontroller.devices.readplan import plan_reads
from sitecontroller.devices.regmap import MAX_READ_REGISTERS, Point, RegisterMap, Source
from sitecontroller.devices.scan import scan_device
from sitecontroller.sim.device_emulators.register_server import RegisterEmulator, StaticPlant
from sitecontroller.sim.device_emulators.sunspec_server import sunspec_emulator

EXPECTED = {
    "abb_esi",
    "abb_pqstori",
    "em24_ethernet",
    "em24_rs485",
    "em340",
    "em540",
    "luxpower",
    "trumpf_truconvert_ac3025",
}


def test_every_map_loads_with_its_source() -> None:
    maps = all_maps()
    assert set(maps) == EXPECTED
    for regmap in maps.values():
        assert regmap.source.manual and regmap.source.version
    assert not maps["abb_esi"].verified and not maps["trumpf_truconvert_ac3025"].verified


def test_comments_are_stripped_but_not_inside_strings() -> None:
    text = '{"url": "https://x/y", /* block\n comment */ "a": 1 // line\n}'
    assert jsonc.loads(text) == {"url": "https://x/y", "a": 1}


def test_loader_names_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("""// a broken map
    {"name": "bad", "kind": "inverter", "source": {"manual": "m", "version": "1"},
     "points": {"p": {"address": "0x10", "group": "nope"}, "w": {"address": 1}},
     "reading": {"power_w": "missing"},
     "commands": {"start": {"steps": [{"write": "w", "value": 1}]}}}""")
    with pytest.raises(MapError) as error:
        load_map_file(path)
    message = str(error.value)
    assert "unknown group 'nope'" in message and "unknown point 'missing'" in message
    assert "read-only" in message


def test_reads_coalesce_but_never_exceed_125_registers() -> None:
    points = {f"p{i}": Point(address=i * 2, type="u32", group="fast") for i in range(200)}
    regmap = RegisterMap(
        name="big",
        kind="meter",
        source=Source(manual="m", version="1"),
        points=points,
        reading={"power_w": "p0"},
    )
    blocks = plan_reads(regmap, list(points))
    assert all(b.count <= MAX_READ_REGISTERS for b in blocks)
    assert len(blocks) == 4  # 400 registers in 4 requests, not 200
    assert sum(len(b.points) for b in blocks) == 200
    far = {"a": Point(address=0), "b": Point(address=100)}
    far_map = RegisterMap(name="far", kind="meter", source=Source(manual="m", version="1"), points=far)
    assert len(plan_reads(far_map, ["a", "b"])) == 2  # a 99-register hole is not worth reading


def test_mapdoc_writes_a_page_per_map(tmp_path: Path) -> None:
    written = mapdoc.write_all(tmp_path)
    assert {p.stem for p in written} == EXPECTED | {"sunspec_der"}
    page = (tmp_path / "trumpf_truconvert_ac3025.md").read_text()
    assert "refuses every command" in page and "**no, check every register" in page


def test_cli_registers_devices_scan() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["devices", "scan", "--host", "10.0.0.5", "--port", "1502", "--unit", "3"])
    assert (args.host, args.port, args.unit) == ("10.0.0.5", 1502, 3)
    assert callable(args.handler)


async def test_scan_identifies_sunspec_and_a_map_by_model_id() -> None:
    emulator, _ = sunspec_emulator(StaticPlant({"m1_mn": "ACME", "m1_md": "DER-9", "m1_sn": "42"}))
    port = await emulator.start_tcp()
    try:
        found = await scan_device(ModbusLink(port=port, request_timeout_s=0.3))
    finally:
        await emulator.stop()
    assert found[0] == "SunSpec device, base address 40000:"
    assert any("701" in line and "DERMeasureAC" in line for line in found)
    assert any("manufacturer ACME, model DER-9" in line for line in found)

    em340 = all_maps()["em340"]
    emulator = RegisterEmulator(em340, StaticPlant({"model_id": 341}))
    port = await emulator.start_tcp()
    try:
        found = await scan_device(ModbusLink(port=port, request_timeout_s=0.3))
    finally:
        await emulator.stop()
    assert found == [f"register map em340 ({em340.source.manual}): model id 341 at input register 0x000B"]


async def test_meter_setup_tool_identifies_the_em24_variant_and_writes_its_mode() -> None:
    from sitecontroller.devices.scan import meter_setup

    plant = StaticPlant({"model_id": 1651})
    emulator = RegisterEmulator(all_maps()["em24_ethernet"], plant)
    port = await emulator.start_tcp()
    try:
        said = await meter_setup(ModbusLink(port=port, request_timeout_s=0.3), "em24")
    finally:
        await emulator.stop()
    assert said == "em24_ethernet: wrote application=7 and read it back"
    assert plant.writes == [("application", 7.0)]
