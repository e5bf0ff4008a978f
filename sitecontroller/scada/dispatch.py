"""Routes a decoded request to the map that owns its unit id and addresses; checks access; audits writes.

Transport-free: the protocol layer hands in (unit, function, address, values, client) and sends
back what this returns or the exception it raises, so tests and the RTU server share it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from sitecontroller.core.clock import Clock
from sitecontroller.core.events import CommandAudit, EventBus
from sitecontroller.runtime.commands import CommandResult
from sitecontroller.scada.access import AccessPolicy
from sitecontroller.scada.errors import ExceptionCode, ModbusError, from_status

log = logging.getLogger(__name__)

MAX_READ_COUNT = 125
MAX_WRITE_COUNT = 123

# forward_write(unit, address, registers, client) -> the master's result (a follower forwards writes)
ForwardWrite = Callable[[int, int, list[int], str], Awaitable[CommandResult]]


class View(Protocol):
    """One register map on one unit id: `start` <= address < `end`."""

    start: int
    end: int

    def read(self, address: int, count: int) -> list[int]: ...

    def write(self, address: int, registers: list[int], client: str) -> None: ...


class Dispatcher:
    def __init__(
        self,
        units: Mapping[int, Sequence[View]],
        access: AccessPolicy,
        clock: Clock,
        events: EventBus,
        role: Callable[[], object],
        forward_write: ForwardWrite | None = None,
        on_write: Callable[[], None] | None = None,
    ) -> None:
        self._units = units
        self._access = access
        self._clock = clock
        self._events = events
        self._role = role
        self._forward = forward_write
        self._on_write = on_write

    def serves(self, unit: int) -> bool:
        return unit in self._units

    def read(self, unit: int, address: int, count: int) -> list[int]:
        if not 1 <= count <= MAX_READ_COUNT:
            raise ModbusError(ExceptionCode.ILLEGAL_VALUE, f"read of {count} registers (1..{MAX_READ_COUNT})")
        return self._view(unit, address, count).read(address, count)

    async def write(self, unit: int, address: int, registers: list[int], client: str) -> None:
        what = f"unit {unit} register {address} = {registers}"
        try:
            if not 1 <= len(registers) <= MAX_WRITE_COUNT:
                raise ModbusError(ExceptionCode.ILLEGAL_VALUE, f"write of {len(registers)} registers")
            self._access.check_write(client)
            view = self._view(unit, address, len(registers))
            if self._role() == "follower":
                await self._forward_to_master(unit, address, registers, client)
            else:
                view.write(address, registers, client)
        except ModbusError as exc:
            log.warning("SCADA write from %s refused (exception %d): %s: %s", client, exc.code, what, exc)
            self._audit(client, unit, address, registers, False, str(exc))
            raise
        finally:
            if self._on_write is not None:
                self._on_write()
        log.info("SCADA write from %s accepted: %s", client, what)
        self._audit(client, unit, address, registers, True, "accepted")

    async def _forward_to_master(self, unit: int, address: int, registers: list[int], client: str) -> None:
        if self._forward is None:
            raise ModbusError(
                ExceptionCode.GATEWAY_PATH_UNAVAILABLE, "this node is a follower and no master is reachable"
            )
        result = await self._forward(unit, address, registers, client)
        if not result.ok:
            raise from_status(result.status, f"master refused: {result.message}")

    def _view(self, unit: int, address: int, count: int) -> View:
        for view in self._units.get(unit, ()):
            if view.start <= address and address + count <= view.end:
                return view
        raise ModbusError(ExceptionCode.ILLEGAL_ADDRESS, f"no registers {address}..{address + count - 1}")

    def _audit(
        self, client: str, unit: int, address: int, registers: list[int], accepted: bool, reason: str
    ) -> None:
        arguments: dict[str, object] = {
            "client": client,
            "unit": unit,
            "address": address,
            "registers": registers,
        }
        audit = CommandAudit(self._clock.wall(), "scada", "modbus_write", arguments, accepted, reason)
        self._events.publish(audit)
