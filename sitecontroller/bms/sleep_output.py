"""The output that puts the BMS to sleep: a Modbus relay coil, or a named output of a
Strato IO class digital IO module declared by its register map (config/devices/strato_io.json).

A small pymodbus client of its own: write the coil, read it back, and report a clear
DeviceCommandError when the module refuses or does not answer.
"""

from __future__ import annotations

import json
from pathlib import Path

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from sitecontroller.config.bms import SleepConfig
from sitecontroller.drivers.base import DeviceCommandError

REPO_ROOT = Path(__file__).resolve().parents[2]


def strato_coil(config: SleepConfig) -> int:
    """The coil address of the configured named output in the IO module's register map."""
    path = Path(config.register_map)
    path = path if path.is_absolute() else REPO_ROOT / path
    try:
        spec = json.loads(path.read_text())
        point = spec["points"][spec["outputs"][config.strato_output]]
    except (OSError, ValueError, KeyError) as exc:
        raise DeviceCommandError(f"{path}: no output {config.strato_output!r}: {exc!r}") from exc
    if point.get("table") != "coil" or "w" not in point.get("access", ""):
        raise DeviceCommandError(f"{path}: output {config.strato_output!r} is not a writable coil")
    return int(point["address"])


class ModbusSleepOutput:
    """BmsSleepControl over Modbus (relay coil or Strato IO output)."""

    def __init__(self, config: SleepConfig) -> None:
        if config.output == "none":
            raise ValueError("sleep output 'none' has no Modbus device")
        self._config = config
        self._coil = strato_coil(config) if config.output == "strato_io" else config.coil
        if config.transport == "tcp":
            self._client: AsyncModbusTcpClient | AsyncModbusSerialClient = AsyncModbusTcpClient(
                config.host, port=config.port, timeout=config.timeout_s, retries=1
            )
        else:
            self._client = AsyncModbusSerialClient(
                config.serial_port, baudrate=config.baudrate, timeout=config.timeout_s, retries=1
            )

    async def sleep(self) -> None:
        await self._set(self._config.sleep_when_on)

    async def wake(self) -> None:
        await self._set(not self._config.sleep_when_on)

    def close(self) -> None:
        self._client.close()

    async def _set(self, on: bool) -> None:
        device_id = self._config.device_id
        try:
            if not self._client.connected and not await self._client.connect():
                raise DeviceCommandError(f"sleep output: cannot connect ({self._config.output})")
            written = await self._client.write_coil(self._coil, on, device_id=device_id)
            if written.isError():
                raise DeviceCommandError(f"sleep output: coil {self._coil} write refused: {written}")
            back = await self._client.read_coils(self._coil, count=1, device_id=device_id)
        except ModbusException as exc:
            raise DeviceCommandError(f"sleep output: {exc}") from exc
        if back.isError() or bool(back.bits[0]) != on:
            raise DeviceCommandError(f"sleep output: coil {self._coil} read back does not match {on}")
