"""Who may write: writes must be enabled, and a TCP client's address must be allow-listed.

A serial (RTU) client has no address: the RS-485 bus is wired on site, so only the enable flag
applies to it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from sitecontroller.scada.errors import ExceptionCode, ModbusError

SERIAL_CLIENT_PREFIX = "rtu:"


class AccessPolicy:
    def __init__(self, writes_enabled: bool, allowed_clients: Iterable[str]) -> None:
        self._writes_enabled = writes_enabled
        self._networks = [ipaddress.ip_network(entry, strict=False) for entry in allowed_clients]

    def check_write(self, client: str) -> None:
        if not self._writes_enabled:
            raise ModbusError(ExceptionCode.ILLEGAL_FUNCTION, "writes are disabled in the configuration")
        if client.startswith(SERIAL_CLIENT_PREFIX):
            return
        try:
            address = ipaddress.ip_address(client)
        except ValueError:
            message = f"client {client!r} has no IP address"
            raise ModbusError(ExceptionCode.ILLEGAL_FUNCTION, message) from None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not any(address in network for network in self._networks):
            raise ModbusError(ExceptionCode.ILLEGAL_FUNCTION, f"client {client} may not write")
