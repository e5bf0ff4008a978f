"""Every writable register of the control map: accepted values act on the simulated site, bad ones get
the right Modbus exception; and the read side serves the node's status."""

from __future__ import annotations

import pytest
from scada_site import ScadaSite, exception_code, s32, signed

from sitecontroller.scada.controlmap import load_control_map
from sitecontroller.scada.errors import ExceptionCode

ILLEGAL_FUNCTION = ExceptionCode.ILLEGAL_FUNCTION
ILLEGAL_ADDRESS = ExceptionCode.ILLEGAL_ADDRESS
ILLEGAL_VALUE = ExceptionCode.ILLEGAL_VALUE
DEVICE_FAILURE = ExceptionCode.DEVICE_FAILURE
EXTERNAL = 2


def test_map_is_versioned_and_every_writable_point_has_a_command() -> None:
    cmap = load_control_map()
    assert cmap.version >= 1
    writable = {n for n, p in cmap.points.items() if p.writable}
    assert writable == {
        "state_request", "mode", "active_power_w", "active_power_w32", "reactive_power_var",
        "reactive_power_var32", "charge_limit_pct", "discharge_limit_pct", "heartbeat", "reset_errors",
    }


async def test_status_registers_show_the_node(site: ScadaSite) -> None:
    await site.run(2.0)
    regs = await site.read(0, 51)
    status = site.status()
    assert regs[0] == load_control_map().version
    assert regs[1] == 1  # Run
    assert regs[2] == 0  # standalone
    assert regs[12] == round(float(status["soc_pct"]) * 10)  # type: ignore[arg-type]
    battery_w = signed(regs[14]) << 16 | regs[15]
    assert battery_w == round(float(status["battery_power_w"]))  # type: ignore[arg-type]
    assert regs[23] == round(float(status["charge_limit_w"]))  # type: ignore[arg-type]
    assert regs[32] == 50000  # 50.000 Hz
    assert regs[13] == round(float(status["soh_pct"]) * 10)  # type: ignore[arg-type]


async def test_mode_register(site: ScadaSite) -> None:
    assert exception_code(await site.write(101, EXTERNAL)) is None
    assert site.status()["mode"] == "external_control"
    assert await site.read(101) == [EXTERNAL]
    assert exception_code(await site.write(101, 6)) is None
    assert site.status()["mode"] == "passive"
    assert exception_code(await site.write(101, 9)) == ILLEGAL_VALUE
    assert exception_code(await site.write(101, 5)) == DEVICE_FAILURE  # local control: only at the site
    assert exception_code(await site.write(101, 4)) == DEVICE_FAILURE  # backup not enabled here
    assert site.status()["mode"] == "passive"


async def test_state_request_register(site: ScadaSite) -> None:
    assert exception_code(await site.write(100, 2)) is None
    await site.node.run_until(lambda: site.status()["state"] == "Sleep", timeout_s=30.0)
    assert await site.read(100) == [2]
    assert exception_code(await site.write(100, 1)) is None
    await site.node.run_until(lambda: site.status()["state"] == "Run", timeout_s=60.0)
    assert exception_code(await site.write(100, 0)) == ILLEGAL_VALUE
    assert exception_code(await site.write(100, 3)) == ILLEGAL_VALUE


async def test_active_power_16_bit(site: ScadaSite) -> None:
    assert exception_code(await site.write(102, -2000)) == DEVICE_FAILURE  # not in external control
    await site.write(101, EXTERNAL)
    assert exception_code(await site.write(102, -2000)) is None
    assert signed((await site.read(102))[0]) == -2000
    await site.run(2.0)
    assert site.inverter_w == pytest.approx(-2000.0)
    assert exception_code(await site.write(102, -32768)) == ILLEGAL_VALUE  # below the declared minimum
    assert signed((await site.read(102))[0]) == -2000


async def test_active_power_32_bit_and_partial_writes(site: ScadaSite) -> None:
    await site.write(101, EXTERNAL)
    assert exception_code(await site.write(103, *s32(3000))) is None
    assert await site.read(103, 2) == list(s32(3000))
    await site.run(2.0)
    assert site.inverter_w == pytest.approx(3000.0)
    assert exception_code(await site.write(103, 0)) == ILLEGAL_ADDRESS  # high word only
    assert exception_code(await site.write(104, 0)) == ILLEGAL_ADDRESS  # low word only
    assert exception_code(await site.write(103, *s32(20_000_000))) == ILLEGAL_VALUE
    await site.run(1.0)
    assert site.inverter_w == pytest.approx(3000.0)


async def test_reactive_power_registers(site: ScadaSite) -> None:
    await site.write(101, EXTERNAL)
    assert exception_code(await site.write(102, 1000, 0, 0, -500)) is None  # P16, P32 (0), Q16 in one write
    assert signed((await site.read(105))[0]) == -500
    assert exception_code(await site.write(106, *s32(800))) is None
    assert await site.read(106, 2) == list(s32(800))
    assert exception_code(await site.write(105, -32768)) == ILLEGAL_VALUE
    assert exception_code(await site.write(106, *s32(-20_000_000))) == ILLEGAL_VALUE


@pytest.mark.parametrize(("address", "request_w", "limited_w"), [(108, -4000, -1000), (109, 4000, 1000)])
async def test_limit_registers(site: ScadaSite, address: int, request_w: int, limited_w: int) -> None:
    await site.write(101, EXTERNAL)
    await site.write(103, *s32(request_w))
    assert exception_code(await site.write(address, 200)) is None  # 20.0 %
    assert await site.read(address) == [200]
    await site.run(2.0)
    assert site.inverter_w == pytest.approx(limited_w)
    assert exception_code(await site.write(address, 1001)) == ILLEGAL_VALUE  # 100.1 %
    assert exception_code(await site.write(address, 1000)) is None
    await site.run(2.0)
    assert site.inverter_w == pytest.approx(request_w)


async def test_heartbeat_and_reset_registers(site: ScadaSite) -> None:
    assert exception_code(await site.write(110, 41)) is None
    assert await site.read(110) == [41]
    # reset goes through the state machine, which allows it only in Error: in Run it is refused (409)
    assert exception_code(await site.write(111, 1)) == DEVICE_FAILURE
    assert await site.read(111) == [0]
    assert exception_code(await site.write(111, 2)) == ILLEGAL_VALUE


async def test_bad_requests_get_exceptions(site: ScadaSite) -> None:
    assert exception_code(await site.write(12, 1)) == ILLEGAL_ADDRESS  # read-only
    assert exception_code(await site.write(500, 1)) == ILLEGAL_ADDRESS  # unknown
    assert exception_code(await site.write(111, 1, 1)) == ILLEGAL_ADDRESS  # runs past the map
    assert exception_code(await site.write(49, 1, 1, 1)) == ILLEGAL_ADDRESS  # uptime (read-only), then a gap
    assert await site.read(110) == [0]  # nothing of a refused write was applied
    read = await site.client.read_holding_registers(500, count=2, device_id=1)
    assert exception_code(read) == ILLEGAL_ADDRESS
    read = await site.client.read_input_registers(0, count=2, device_id=1)
    assert not read.isError()  # FC 4 reads the same table
    coils = await site.client.read_coils(0, count=1, device_id=1)
    assert exception_code(coils) == ILLEGAL_FUNCTION
    other_unit = await site.client.read_holding_registers(0, count=1, device_id=7)
    assert exception_code(other_unit) == ILLEGAL_ADDRESS


async def test_every_write_is_audited_with_the_client(site: ScadaSite) -> None:
    await site.write(101, EXTERNAL)
    await site.write(12, 1)
    writes = [a for a in site.audits if a.command == "modbus_write"]
    seen = [(a.arguments["client"], a.accepted) for a in writes]
    assert seen == [("127.0.0.1", True), ("127.0.0.1", False)]
    assert any(a.command == "mode" and a.origin == "scada" for a in site.audits)  # NodeCommands' own audit
