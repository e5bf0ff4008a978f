"""A follower's SCADA writes, forwarded to the master's SCADA server over Modbus TCP.

SCADA may talk to any node; only the master commands the site. The follower passes the write on
unchanged (same unit, address and registers) and answers its client with the master's own result:
success, or the master's Modbus exception code. No master, or a master that does not answer, is
exception 0x0A (gateway path unavailable): the write is never silently dropped. The master audits the
write with the follower as the client; the follower audits it with the original client.
"""

from __future__ import annotations

from collections.abc import Callable

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from sitecontroller.runtime.commands import CommandResult
from sitecontroller.scada.errors import ExceptionCode, ModbusError

FORWARD_TIMEOUT_S = 1.0


class MasterForwarder:
    def __init__(
        self, leader_id: Callable[[], str | None], scada_endpoints: dict[str, tuple[str, int]]
    ) -> None:
        """`scada_endpoints`: node id -> (host, port) of that node's SCADA server."""
        self._leader_id = leader_id
        self._endpoints = scada_endpoints

    async def __call__(self, unit: int, address: int, registers: list[int], client: str) -> CommandResult:
        leader = self._leader_id()
        if leader is None or leader not in self._endpoints:
            raise ModbusError(ExceptionCode.GATEWAY_PATH_UNAVAILABLE, "no master to forward the write to")
        host, port = self._endpoints[leader]
        master = AsyncModbusTcpClient(host, port=port, timeout=FORWARD_TIMEOUT_S, retries=0)
        try:
            if not await master.connect():
                raise ModbusError(
                    ExceptionCode.GATEWAY_PATH_UNAVAILABLE, f"master {leader} at {host}:{port} unreachable"
                )
            response = await master.write_registers(address, registers, device_id=unit)
        except (ModbusException, OSError, TimeoutError) as exc:
            raise ModbusError(ExceptionCode.GATEWAY_PATH_UNAVAILABLE, f"master {leader}: {exc}") from exc
        finally:
            master.close()
        if response.isError():
            raise ModbusError(ExceptionCode(response.exception_code), f"master {leader} refused the write")
        return CommandResult(200, f"forwarded to master {leader}")
