"""One Modbus link (TCP or RTU): pymodbus client, a lock so requests never interleave, reconnect backoff.

Several devices on one RS-485 line share one Transport; each request carries its unit id.
Every failure comes out as DeviceIOError so drivers handle one exception type.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from sitecontroller.config.devices import ModbusLink
from sitecontroller.core.clock import Clock
from sitecontroller.devices.backoff import Backoff


class DeviceIOError(RuntimeError):
    """The device did not answer, answered with an exception code, or the link is down."""


def make_client(link: ModbusLink) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
    # reconnect_delay=0 turns pymodbus' own reconnect off: Transport owns the backoff
    if link.serial_port:
        return AsyncModbusSerialClient(
            link.serial_port,
            baudrate=link.baudrate,
            parity=link.parity,
            stopbits=link.stopbits,
            timeout=link.request_timeout_s,
            retries=0,
            reconnect_delay=0,
        )
    return AsyncModbusTcpClient(
        link.host, port=link.port, timeout=link.request_timeout_s, retries=0, reconnect_delay=0
    )


class Transport:
    def __init__(self, link: ModbusLink, clock: Clock) -> None:
        self.link = link
        self.clock = clock
        self._client = make_client(link)
        self._lock = asyncio.Lock()
        self._backoff = Backoff(clock, link.reconnect_min_s, link.reconnect_max_s)
        self._timeout_s = link.request_timeout_s
        self.requests = 0

    @property
    def connected(self) -> bool:
        return bool(self._client.connected)

    async def _ensure_connected(self) -> None:
        if self._client.connected:
            return
        if not self._backoff.ready():
            raise DeviceIOError(f"{self._where()}: link down, retrying after {self._backoff.delay_s} s")
        if not await self._client.connect():
            self._backoff.failed()
            raise DeviceIOError(f"{self._where()}: cannot connect")
        self._backoff.succeeded()

    def _where(self) -> str:
        return self.link.serial_port or f"{self.link.host}:{self.link.port}"

    async def _call(self, what: str, unit: int, request: Any) -> Any:
        async with self._lock:
            await self._ensure_connected()
            self.requests += 1
            try:
                # the outer timeout covers a peer that accepted the request but never answers
                response = await asyncio.wait_for(request(), self._timeout_s * 2)
            except (ModbusException, OSError, TimeoutError) as exc:
                self._client.close()
                self._backoff.failed()
                reason = str(exc) or type(exc).__name__
                raise DeviceIOError(f"{self._where()} unit {unit}: {what}: {reason}") from exc
            if response.isError():
                code = getattr(response, "exception_code", "?")
                raise DeviceIOError(f"{self._where()} unit {unit}: {what}: exception code {code}")
            return response

    async def read(self, table: str, address: int, count: int, unit: int) -> list[int]:
        what = f"read {table} {address}+{count}"
        if table == "coil":
            response = await self._call(
                what, unit, lambda: self._client.read_coils(address, count=count, device_id=unit)
            )
            return [int(bit) for bit in response.bits[:count]]
        client = self._client
        method = client.read_holding_registers if table == "holding" else client.read_input_registers
        response = await self._call(what, unit, lambda: method(address, count=count, device_id=unit))
        registers: list[int] = response.registers
        if len(registers) != count:
            raise DeviceIOError(f"{self._where()} unit {unit}: {what}: short answer ({len(registers)})")
        return registers

    async def write(self, table: str, address: int, registers: list[int], unit: int) -> None:
        what = f"write {table} {address}={registers}"
        client = self._client
        if table == "coil":
            bit = bool(registers[0])
            await self._call(what, unit, lambda: client.write_coil(address, bit, device_id=unit))
        elif table != "holding":
            raise DeviceIOError(f"{what}: only holding registers and coils are writable")
        elif len(registers) == 1:
            await self._call(what, unit, lambda: client.write_register(address, registers[0], device_id=unit))
        else:
            await self._call(what, unit, lambda: client.write_registers(address, registers, device_id=unit))

    def close(self) -> None:
        self._client.close()
