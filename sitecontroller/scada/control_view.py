"""The control map served as registers: the status snapshot encoded, and writes turned into commands.

Reads encode the whole map once per status snapshot (and after each accepted write), so a poll costs
a slice of a list. Writes are checked as a whole first (address, access, whole values, range), then
applied in a fixed order: heartbeat, mode, state, limits, setpoint, reset. A refused command answers
with the exception its status maps to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sitecontroller.devices import codec
from sitecontroller.runtime.commands import CommandResult, CommandSink
from sitecontroller.safety.errors import Severity, Source
from sitecontroller.scada.control import ORIGIN, ScadaControl
from sitecontroller.scada.controlmap import ENUM_OTHER, ControlMap, ControlPoint
from sitecontroller.scada.errors import ExceptionCode, ModbusError, from_status
from sitecontroller.scada.slots import Slot, SlotIndex
from sitecontroller.scada.status_cache import StatusCache

_NOT_AVAILABLE = {"u16": [0xFFFF], "s16": [0x8000], "u32": [0xFFFF, 0xFFFF], "s32": [0x8000, 0x0000]}
_SOURCE_BITS = {source.value: bit for bit, source in enumerate(Source)}
NO_REQUEST = "none"  # the state enum's 0: what the state-request register reads before any request
_APPLY_ORDER = (
    "heartbeat",
    "mode",
    "state",
    "charge_limit_pct",
    "discharge_limit_pct",
    "power",
    "reset_errors",
)


class ControlMapView:
    def __init__(
        self, cmap: ControlMap, status: StatusCache, control: ScadaControl, commands: CommandSink
    ) -> None:
        self._map = cmap
        self._points = cmap.sorted_points()
        self._status = status
        self._control = control
        self._commands = commands
        self._index = SlotIndex(Slot(n, p.address, p.size, p.writable) for n, p in self._points)
        self._by_name = dict(self._points)
        self.start = self._points[0][1].address
        self.end = max(p.address + p.size for _, p in self._points)
        self._image: list[int] = []
        self._image_key: tuple[int, int] = (-1, -1)
        self._version = 0  # bumped by every applied write: the image shows the SCADA state at once
        self.last_state_request = NO_REQUEST

    # ---- reads ----------------------------------------------------------------------------------
    def read(self, address: int, count: int) -> list[int]:
        status = self._status.get()
        key = (self._status.generation, self._version)
        if key != self._image_key:
            self._image = self._encode(self.values(status))
            self._image_key = key
        return self._image[address - self.start : address - self.start + count]

    def values(self, status: Mapping[str, object]) -> dict[str, object]:
        """The value table the map's `key`s name: the status plus counts, bitfields and SCADA state."""
        control = self._control
        errors = [e for e in status.get("errors", ()) if isinstance(e, Mapping)]  # type: ignore[union-attr]
        order = control.order
        return {
            **status,
            "map_version": self._map.version,
            "error_count": len(errors),
            "error_sources": _source_bits(errors),
            "error_severities": _severity_bits(errors),
            "scada_power_w": None if order is None else order.power_w,
            "scada_reactive_power_var": None if order is None else order.reactive_power_var,
            "scada_charge_limit_pct": control.charge_limit_pct,
            "scada_discharge_limit_pct": control.discharge_limit_pct,
            "scada_heartbeat": control.heartbeat_value,
            "scada_setpoint_active": int(order is not None),
            "scada_fallback_active": int(control.fallback_active),
            "scada_reset_errors": 0,
            "state_request": self.last_state_request,
        }

    def _encode(self, values: Mapping[str, object]) -> list[int]:
        image = [0] * (self.end - self.start)
        for name, point in self._points:
            words = encode_point(point, values.get(point.key or name))
            image[point.address - self.start : point.address - self.start + point.size] = words
        return image

    # ---- writes ---------------------------------------------------------------------------------
    def write(self, address: int, registers: list[int], client: str) -> None:
        commands: dict[str, float | str] = {}
        for slot, words in self._index.split_write(address, registers):
            point = self._by_name[slot.name]
            value = decode_write(slot.name, point, words)
            if point.command in ("power_w", "reactive_power_var"):
                commands[str(point.command)] = value
                commands["power"] = 1.0
            else:
                commands[str(point.command)] = point.enum[int(value)] if point.enum else value
        try:
            for command in _APPLY_ORDER:
                if command in commands:
                    self._apply(command, commands, client)
        finally:
            self._version += 1

    def _apply(self, command: str, values: dict[str, float | str], client: str) -> None:
        control, value = self._control, values[command]
        if command == "heartbeat":
            control.heartbeat(int(value))
        elif command == "mode":
            _check(self._commands.request_mode(str(value), ORIGIN))
        elif command == "state":
            if value == NO_REQUEST:
                raise ModbusError(ExceptionCode.ILLEGAL_VALUE, "state request 0 (none) is not a request")
            _check(self._commands.request_state(str(value), ORIGIN))
            self.last_state_request = str(value)
        elif command == "charge_limit_pct":
            control.charge_limit_pct = float(value)
        elif command == "discharge_limit_pct":
            control.discharge_limit_pct = float(value)
        elif command == "power":
            order = control.order
            power_w = float(values.get("power_w", 0.0 if order is None else order.power_w))
            var = float(values.get("reactive_power_var", 0.0 if order is None else order.reactive_power_var))
            _check(control.set_power(power_w, var, client))
        elif command == "reset_errors":
            _check(self._commands.reset_errors(ORIGIN))


def _check(result: CommandResult) -> None:
    if not result.ok:
        raise from_status(result.status, result.message)


def _source_bits(errors: list[Mapping[str, object]]) -> int:
    bits = 0
    for error in errors:
        bits |= 1 << _SOURCE_BITS.get(str(error.get("source")), 31)  # bit 31: a source added later
    return bits


def _severity_bits(errors: list[Mapping[str, object]]) -> int:
    bits = 0
    for error in errors:
        name = str(error.get("severity", "")).upper()
        if name in Severity.__members__:
            bits |= 1 << (Severity[name] - 1)
    return bits


def encode_point(point: ControlPoint, value: object) -> list[int]:
    """A live value -> registers; None, NaN and values the type cannot carry read as not available."""
    if point.enum:
        if value is None:
            return list(_NOT_AVAILABLE[point.type])
        raw: object = point.enum.index(str(value)) if str(value) in point.enum else ENUM_OTHER
        return codec.encode_raw(point, raw)  # type: ignore[arg-type]
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        return list(_NOT_AVAILABLE[point.type])
    try:
        return codec.encode_raw(point, codec.from_site(point, float(value)))
    except codec.EncodeError:
        return list(_NOT_AVAILABLE[point.type])


def decode_write(name: str, point: ControlPoint, words: list[int]) -> float:
    """Registers -> site value, refusing what the point does not allow (ILLEGAL_VALUE)."""
    raw = codec.decode_raw(point, words)
    assert isinstance(raw, int)  # the control map has integer types only
    if point.enum:
        if not 0 <= raw < len(point.enum):
            top = len(point.enum) - 1
            raise ModbusError(ExceptionCode.ILLEGAL_VALUE, f"{name}: {raw} is not one of 0..{top}")
        return float(raw)
    value = codec.to_site(point, raw)
    try:
        codec.check_range(name, point, value)
    except codec.EncodeError as exc:
        raise ModbusError(ExceptionCode.ILLEGAL_VALUE, str(exc)) from None
    return value
