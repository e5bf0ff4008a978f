"""The same server over Modbus RTU on a pty pair (socat): reads, writes, broadcast, foreign unit ids."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusSerialClient
from pymodbus.exceptions import ModbusIOException
from scada_site import ScadaSite

from sitecontroller.config.scada import RtuConfig, ScadaConfig
from sitecontroller.config.site import SiteConfig

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="needs socat for a pty pair")


@pytest.fixture
async def pty_pair(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    a, b = tmp_path / "ttyA", tmp_path / "ttyB"
    proc = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(5.0):
            while not (a.exists() and b.exists()):
                await asyncio.sleep(0.02)  # bounded wait for the subprocess to create the links
        yield str(a), str(b)
    finally:
        proc.terminate()
        proc.wait(timeout=5)


async def test_rtu_reads_writes_and_broadcast(
    single_node_config: SiteConfig, scada_config: ScadaConfig, tmp_path: Path, pty_pair: tuple[str, str]
) -> None:
    server_tty, client_tty = pty_pair
    config = scada_config.model_copy(update={"rtu": RtuConfig(enabled=True, port=server_tty, baudrate=19200)})
    site = ScadaSite(single_node_config, config, tmp_path)
    await site.start()
    client = AsyncModbusSerialClient(client_tty, baudrate=19200, timeout=0.5, retries=0)
    await client.connect()
    try:
        response = await client.read_holding_registers(0, count=2, device_id=1)
        assert response.registers == [1, 1]  # map version, Run
        assert not (await client.write_register(110, 12, device_id=1)).isError()
        assert site.server.control.heartbeat_value == 12
        with pytest.raises(ModbusIOException):  # broadcast: applied, never answered
            await client.write_register(110, 13, device_id=0)
        async with asyncio.timeout(2.0):
            while site.server.control.heartbeat_value != 13:
                await asyncio.sleep(0.01)
        with pytest.raises(ModbusIOException):  # a foreign unit id on the bus gets silence
            await client.read_holding_registers(0, count=1, device_id=9)
    finally:
        client.close()
        await site.stop()
