"""Serve a register map from a plant over a real pymodbus server (TCP on loopback, or RTU on a pty).

The emulator encodes with the same codec the drivers decode with, so a map's scaling, word order
and sign are proven end to end. It talks to the plant through `PlantPort` only: the simulator's
inverter/meter models (or a test's dictionary) provide site-unit values and receive setpoints.
Faults are injected per emulator: no answer, slow answer, a Modbus exception code, value overrides.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from sitecontroller.devices import codec
from sitecontroller.devices.regmap import Point, RegisterMap

log = logging.getLogger(__name__)
_TABLE_BY_FC = {3: "holding", 6: "holding", 16: "holding", 4: "input"}


class PlantPort(Protocol):
    def values(self) -> Mapping[str, float | str]:
        """Site-unit values (site sign) of map points, by point name; missing points keep their registers."""
        ...

    def written(self, point: str, value: float) -> None:
        """A client wrote `point` (converted back to site units and sign)."""
        ...


@dataclass
class StaticPlant:
    """The simplest plant: a dictionary of values, and a record of every write."""

    state: dict[str, float | str] = field(default_factory=dict)
    writes: list[tuple[str, float]] = field(default_factory=list)

    def values(self) -> Mapping[str, float | str]:
        return self.state

    def written(self, point: str, value: float) -> None:
        self.writes.append((point, value))
        self.state[point] = value


@dataclass
class Faults:
    no_answer: bool = False
    delay_s: float = 0.0
    exception_code: int | None = None
    overrides: dict[str, float | str] = field(default_factory=dict)


class RegisterEmulator:
    def __init__(self, regmap: RegisterMap, plant: PlantPort, unit: int = 1) -> None:
        self.regmap = regmap
        self.plant = plant
        self.unit = unit
        self.faults = Faults()
        self.requests: list[tuple[int, int, int]] = []  # (function code, address, count), for tests
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._starts: dict[str, int] = {}

    def _block(self, table: str) -> list[SimData]:
        points = [p for p in self.regmap.points.values() if p.table == table]
        if not points:  # a placeholder: pymodbus refuses empty blocks
            return [SimData(address=0, count=1, values=0, datatype=DataType.REGISTERS)]
        start = min(p.address for p in points)
        end = max(p.address + p.size for p in points)
        self._starts[table] = start
        return [SimData(address=start, count=end - start, values=0, datatype=DataType.REGISTERS)]

    def device(self) -> SimDevice:
        # pymodbus wants every block non-empty; coils/discrete inputs are not used by our maps
        unused_bits = [SimData(address=0, count=1, values=False, datatype=DataType.BITS)]
        simdata = (unused_bits, list(unused_bits), self._block("holding"), self._block("input"))
        return SimDevice(id=self.unit, simdata=simdata, action=self._action)

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        self.requests.append((function_code, address, count))
        if self.faults.delay_s:
            await asyncio.sleep(self.faults.delay_s)
        while self.faults.no_answer:  # hold the request until the fault clears: the client times out
            await asyncio.sleep(0.01)
        if self.faults.exception_code is not None:
            return ExcCodes(self.faults.exception_code)
        table = _TABLE_BY_FC.get(function_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        try:
            if set_values:
                self._deliver_writes(table, address, [int(v) for v in set_values], registers, start_address)
            else:
                self._refresh(table, address, count, registers, start_address)
        except codec.EncodeError as exc:  # the plant shows a value this register cannot carry
            log.warning("%s emulator: %s", self.regmap.name, exc)
            return ExcCodes.DEVICE_FAILURE
        return None

    def _overlapping(self, table: str, address: int, count: int) -> list[tuple[str, Point]]:
        return [
            (name, p)
            for name, p in self.regmap.points.items()
            if p.table == table and p.address < address + count and address < p.address + p.size
        ]

    def _refresh(self, table: str, address: int, count: int, registers: list[int], start: int) -> None:
        values = {**self.plant.values(), **self.faults.overrides}
        for name, point in self._overlapping(table, address, count):
            if name in values:
                encoded = self._encode(point, values[name], values)
                registers[point.address - start : point.address - start + point.size] = encoded

    def _encode(self, point: Point, value: float | str, values: Mapping[str, float | str]) -> list[int]:
        if isinstance(value, str):
            return codec.encode_raw(point, value)
        sf = int(values.get(point.scale_factor, 0)) if point.scale_factor else 0
        return codec.encode_raw(point, codec.from_site(point, value, sf))

    def _deliver_writes(
        self, table: str, address: int, new: list[int], registers: list[int], start: int
    ) -> None:
        image = registers[:]
        image[address - start : address - start + len(new)] = new
        for name, point in self._overlapping(table, address, len(new)):
            words = image[point.address - start : point.address - start + point.size]
            raw = codec.decode_raw(point, words)
            if isinstance(raw, str):
                continue
            sf = self._sf_of(point, image, start)
            self.plant.written(name, codec.to_site(point, raw, sf))

    def _sf_of(self, point: Point, image: list[int], start: int) -> int:
        if point.scale_factor is None:
            return 0
        sf_point = self.regmap.points[point.scale_factor]
        return int(codec.decode_raw(sf_point, image[sf_point.address - start : sf_point.address - start + 1]))

    # ---- serving -------------------------------------------------------------------------
    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve on host:port and return the bound port (port 0 picks a free one)."""
        self._server = ModbusTcpServer(self.device(), address=(host, port))
        await self._server.serve_forever(background=True)
        return _bound_port(self._server, port)

    async def start_rtu(self, serial_port: str, baudrate: int = 19200) -> None:
        self._server = ModbusSerialServer(
            self.device(), framer=FramerType.RTU, port=serial_port, baudrate=baudrate
        )
        await self._server.serve_forever(background=True)

    async def stop(self) -> None:
        self.faults.no_answer = False  # release held requests so the server can shut down
        if self._server is not None:
            await self._server.shutdown()
            self._server = None


def _bound_port(server: ModbusTcpServer, requested: int) -> int:
    if requested:
        return requested
    # pymodbus keeps the asyncio.Server as `transport` on a listening server
    return int(server.transport.sockets[0].getsockname()[1])  # type: ignore[union-attr]
