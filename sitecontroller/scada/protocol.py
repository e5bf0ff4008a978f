"""The pymodbus server underneath: listening, framing and PDU decoding are pymodbus's; handling is ours.

pymodbus 3.16.1's own request handler does not tell the datastore who is asking, keeps only the last
frame of a read (pipelined requests get lost) and waits for 264 bytes on a broken MBAP header. So each
connection gets our handler: it knows its peer address (for the write allow-list), splits every complete
frame out of the stream, answers them in order from one worker per connection, closes the connection on
a malformed MBAP header, on a flood of pending requests, on idle timeout and beyond the connection limit.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from pymodbus.framer import FramerType
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterResponse,
)
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler
from pymodbus.simulator import DataType, SimData, SimDevice

from sitecontroller.scada.access import SERIAL_CLIENT_PREFIX
from sitecontroller.scada.dispatch import Dispatcher
from sitecontroller.scada.errors import ExceptionCode, ModbusError

log = logging.getLogger(__name__)

READ_HOLDING, READ_INPUT, WRITE_SINGLE, WRITE_MULTIPLE = 3, 4, 6, 16
SERVED_FUNCTIONS = (READ_HOLDING, READ_INPUT, WRITE_SINGLE, WRITE_MULTIPLE)
MAX_PENDING = 32  # requests queued on one connection before it counts as a flood
MAX_MBAP_LENGTH = 254  # unit id + PDU (253 bytes max)
RECEIVE_BUFFER = 4096
TCP_ALIASES = (0, 255)  # "this device" on Modbus TCP


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int
    idle_timeout_s: float
    control_unit: int  # the unit TCP aliases 0/255 and RTU broadcast (0) go to


class _Connection(ServerRequestHandler):
    """One client connection (or the serial line)."""

    server: _ScadaServerMixin

    def __init__(self, owner: _ScadaServerMixin) -> None:
        super().__init__(owner, None, None, None)
        self.max_buffer_size = RECEIVE_BUFFER
        self._serial = owner.serial
        self._queue: asyncio.Queue[tuple[int, int, bytes]] = asyncio.Queue(MAX_PENDING)
        self._worker: asyncio.Task[None] | None = None
        self._idle: asyncio.TimerHandle | None = None
        self.client = ""

    def callback_connected(self) -> None:
        super().callback_connected()
        owner = self.server
        if self._serial:
            self.client = f"{SERIAL_CLIENT_PREFIX}{self.comm_params.host or 'serial'}"
        else:
            peer = self.transport.get_extra_info("peername") or ("?", 0)
            self.client = str(peer[0])
            if len(owner.active_connections) > owner.limits.max_connections:
                log.warning(
                    "SCADA connection from %s refused: %d connections",
                    self.client,
                    owner.limits.max_connections,
                )
                self.loop.call_soon(self.close)
                return
            log.info("SCADA client %s connected", self.client)
        self._worker = self.loop.create_task(self._work(), name=f"scada-{self.client}")
        self._touch()

    def callback_disconnected(self, exc: Exception | None) -> None:
        super().callback_disconnected(exc)
        if self._worker is not None:
            self._worker.cancel()
        if self._idle is not None:
            self._idle.cancel()
        if not self._serial:
            log.info("SCADA client %s disconnected", self.client)

    def callback_data(self, data: bytes, addr: tuple[str, int] | None = None) -> int:
        used = 0
        while used < len(data):
            if not self._serial and not _plausible_mbap(data[used:]):
                self._drop("malformed MBAP header")
                return len(data)
            length, unit, tid, frame = self.framer.decode(data[used:])
            if not length:
                break
            used += length
            if not frame:
                continue
            try:
                self._queue.put_nowait((unit, tid, frame))
            except asyncio.QueueFull:
                self._drop(f"more than {MAX_PENDING} requests pending")
                return len(data)
        self._touch()
        return used

    def _drop(self, why: str) -> None:
        log.warning("SCADA client %s dropped: %s", self.client, why)
        self.close()

    def _touch(self) -> None:
        if self._serial:
            return
        if self._idle is not None:
            self._idle.cancel()
        self._idle = self.loop.call_later(self.server.limits.idle_timeout_s, self._drop, "idle timeout")

    async def _work(self) -> None:
        while True:
            unit, tid, frame = await self._queue.get()
            response = await self.server.respond(unit, frame, self.client, self._serial)
            if response is None or self.transport is None:
                continue
            response.transaction_id = tid
            self.transport.write(self.framer.buildFrame(response))  # type: ignore[attr-defined]


def _plausible_mbap(data: bytes) -> bool:
    """False once the header is complete enough to be wrong (protocol id, length)."""
    if len(data) >= 4 and data[2:4] != b"\x00\x00":
        return False
    return not (len(data) >= 6 and not 2 <= int.from_bytes(data[4:6], "big") <= MAX_MBAP_LENGTH)


class _ScadaServerMixin:
    """What our connections need from the server: the dispatcher, limits and the PDU decoder."""

    dispatcher: Dispatcher
    limits: Limits
    serial: bool
    decoder: object
    active_connections: dict[str, object]
    comm_params: object

    def callback_new_connection(self) -> _Connection:
        return _Connection(self)

    async def respond(self, unit: int, frame: bytes, client: str, serial: bool) -> ModbusPDU | None:
        broadcast = serial and unit == 0
        if broadcast or (not serial and unit in TCP_ALIASES):
            unit = self.limits.control_unit
        if not self.dispatcher.serves(unit):
            if serial:
                return None  # another device on the bus: stay silent
            return _exception(frame[0], ExceptionCode.ILLEGAL_ADDRESS, unit, "unknown unit id")
        response = await self._execute(unit, frame, client)
        return None if broadcast else response

    async def _execute(self, unit: int, frame: bytes, client: str) -> ModbusPDU:
        function = frame[0]
        if function not in SERVED_FUNCTIONS:
            return _exception(function, ExceptionCode.ILLEGAL_FUNCTION, unit, f"function {function}")
        pdu = self.decoder.decode(frame)  # type: ignore[attr-defined]
        if pdu is None:
            return _exception(function, ExceptionCode.ILLEGAL_VALUE, unit, "malformed request")
        try:
            response = await self._serve(unit, pdu, client)
        except ModbusError as exc:
            return _exception(function, exc.code, unit, str(exc))
        except Exception:  # a bug answers DEVICE_FAILURE; the connection and the server live on
            log.exception("SCADA request failed: unit %d function %d", unit, function)
            return _exception(function, ExceptionCode.DEVICE_FAILURE, unit, "internal error")
        response.dev_id = unit
        return response

    async def _serve(self, unit: int, pdu: ModbusPDU, client: str) -> ModbusPDU:
        function = pdu.function_code
        if function in (READ_HOLDING, READ_INPUT):
            registers = self.dispatcher.read(unit, pdu.address, pdu.count)
            kind = ReadHoldingRegistersResponse if function == READ_HOLDING else ReadInputRegistersResponse
            return kind(registers=registers)
        if function == WRITE_SINGLE:
            await self.dispatcher.write(unit, pdu.address, list(pdu.registers), client)
            return WriteSingleRegisterResponse(address=pdu.address, registers=list(pdu.registers))
        registers = list(pdu.registers)
        if pdu.count != len(registers) or getattr(pdu, "byte_count", None) != 2 * len(registers):
            raise ModbusError(ExceptionCode.ILLEGAL_VALUE, "register count and byte count disagree")
        await self.dispatcher.write(unit, pdu.address, registers, client)
        return WriteMultipleRegistersResponse(address=pdu.address, count=len(registers))


def _exception(function: int, code: ExceptionCode, unit: int, why: str) -> ExceptionResponse:
    log.debug("exception %d for function %d on unit %d: %s", code, function, unit, why)
    return ExceptionResponse(function & 0x7F, int(code), device_id=unit)


def _placeholder() -> SimDevice:
    """pymodbus wants a datastore; ours is the dispatcher, so this one is never read."""
    return SimDevice(id=1, simdata=[SimData(address=0, count=1, values=0, datatype=DataType.REGISTERS)])


class ScadaTcpServer(_ScadaServerMixin, ModbusTcpServer):
    def __init__(self, dispatcher: Dispatcher, limits: Limits, host: str, port: int) -> None:
        self.dispatcher, self.limits, self.serial = dispatcher, limits, False
        super().__init__(_placeholder(), address=(host, port))

    @property
    def port(self) -> int:
        return int(self.transport.sockets[0].getsockname()[1])  # type: ignore[attr-defined]


class ScadaRtuServer(_ScadaServerMixin, ModbusSerialServer):
    def __init__(
        self,
        dispatcher: Dispatcher,
        limits: Limits,
        port: str,
        baudrate: int,
        bytesize: int,
        parity: str,
        stopbits: int,
    ) -> None:
        self.dispatcher, self.limits, self.serial = dispatcher, limits, True
        super().__init__(
            _placeholder(),
            framer=FramerType.RTU,
            port=port,
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
        )
