"""The node as a SunSpec device at base 40000: models 1, 701, 702, 704, 713, 715, 802 (+203 for the meter).

The image is encoded by pysunspec2 itself (its model definitions and `get_mb`), so offsets, types,
scale factors and "not implemented" values are the standard's. Live points are refreshed from the
status snapshot; written points keep what the client wrote (read-back) until the node changes them.

Writable (anything else answers ILLEGAL_ADDRESS, never a silent drop):
- 704 WSet/WSetPct with WSetEna, WSetMod, WSetRvrt, WSetEnaRvrt, WSetRvrtTms: enabling selects
  external control and grants a setpoint lease; with RvrtTms > 0 it reverts after RvrtTms seconds
  without a new write (to WSetRvrt if WSetEnaRvrt, else released), RvrtRem counts down.
- 704 VarSet/VarSetPct with VarSetEna, VarSetMod (VARS or W_MAX_PCT): the reactive part of that
  setpoint, applied with it (WSetEna=1).
- 704 WMaxLimPct with WMaxLimPctEna, WMaxLimPctRvrt, WMaxLimPctEnaRvrt, WMaxLimPctRvrtTms: a limit
  of |power| in % of WMaxRtg, fed to the node's safety chain as the "scada" limit source.
- 715 ControllerHb and 802 CtrlHb: the SCADA heartbeat; 715 AlarmReset, 802 AlmRst: reset errors;
  715 OpCtl, 802 SetOp, 802 SetInvState: run / idle requests.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

import sunspec2.device as ssdev

from sitecontroller.config.scada import SunSpecViewConfig
from sitecontroller.core.clock import Clock
from sitecontroller.core.readings import MeterReading
from sitecontroller.runtime.commands import CommandResult, CommandSink
from sitecontroller.scada.control import ORIGIN, ScadaControl, SetpointOrder, TimedLimit
from sitecontroller.scada.errors import ExceptionCode, ModbusError, from_status
from sitecontroller.scada.slots import Slot, SlotIndex
from sitecontroller.scada.status_cache import StatusCache
from sitecontroller.scada.sunspec_points import (
    EXTERNAL_MODE,
    METER_MODEL,
    DeviceInfo,
    fill_live,
    fill_meter,
    fill_static,
    set_value,
)

BASE = 40000
MARKER = (0x5375, 0x6E53)  # "SunS"
END = (0xFFFF, 0x0000)
DER_MODELS = (1, 701, 702, 704, 713, 715, 802)

WRITABLE = {
    704: (
        "WMaxLimPctEna",
        "WMaxLimPct",
        "WMaxLimPctRvrt",
        "WMaxLimPctEnaRvrt",
        "WMaxLimPctRvrtTms",
        "WSetEna",
        "WSetMod",
        "WSet",
        "WSetRvrt",
        "WSetPct",
        "WSetPctRvrt",
        "WSetEnaRvrt",
        "WSetRvrtTms",
        "VarSetEna",
        "VarSetMod",
        "VarSet",
        "VarSetPct",
    ),
    715: ("ControllerHb", "AlarmReset", "OpCtl"),
    802: ("CtrlHb", "AlmRst", "SetOp", "SetInvState"),
}
_FORMATS = {"int16": ">h", "uint16": ">H", "enum16": ">H", "int32": ">i", "uint32": ">I"}
MAX_REVERSION_S = 86_400
_VAR_MODES = {"W_MAX_PCT": 0, "VARS": 4}  # the VarSetMod values served (of 704's five)
# requests_state names for the operation enums (715 OpCtl, 802 SetOp, 802 SetInvState)
_OPERATIONS = {
    "OpCtl": {0: "Sleep", 1: "Run", 2: "Sleep", 3: "Run"},
    "SetOp": {1: "Run", 2: "Sleep"},
    "SetInvState": {1: "Sleep", 2: "Sleep", 3: "Run"},
}


class SunSpecView:
    def __init__(
        self,
        config: SunSpecViewConfig,
        device: DeviceInfo,
        status: StatusCache,
        control: ScadaControl,
        commands: CommandSink,
        clock: Clock,
        meter: Callable[[], MeterReading | None] | None = None,
    ) -> None:
        self._config = config
        self._info = device
        self._status = status
        self._control = control
        self._commands = commands
        self._clock = clock
        self._meter = meter
        self._models: dict[int, ssdev.Model] = {}
        self._points: dict[str, ssdev.Point] = {}  # "704.WSet" -> point
        self.model_addresses: dict[int, int] = {}  # model id -> address of its ID register
        slots: list[Slot] = []
        for address, model in layout((*DER_MODELS, METER_MODEL) if meter is not None else DER_MODELS):
            model_id = int(model.ID.value)
            self._models[model_id] = model
            self.model_addresses[model_id] = address
            for point in model_points(model):
                name = f"{model_id}.{point.pdef['name']}"
                self._points[name] = point
                writable = point.pdef["name"] in WRITABLE.get(model_id, ())
                slots.append(Slot(name, address + point.offset, point.len, writable))
            end = address + model.len
        self.start, self.end = BASE, end + len(END)
        self._index = SlotIndex(slots)
        self._image: list[int] = []
        self._image_key: tuple[int, int] = (-1, -1)
        self._version = 0
        self._order: SetpointOrder | None = None
        self._limit: TimedLimit | None = None
        fill_static(self._models, config, device)

    # ---- reads ----------------------------------------------------------------------------------
    def read(self, address: int, count: int) -> list[int]:
        status = self._status.get()
        key = (self._status.generation, self._version)
        if key != self._image_key:
            fill_live(self._models, status, self._info, self._clock.monotonic())
            self._follow_control()
            if METER_MODEL in self._models and self._meter is not None:
                fill_meter(self._models[METER_MODEL], self._meter())
            self._image = [*MARKER, *(w for m in self._models.values() for w in _words(m.get_mb())), *END]
            self._image_key = key
        return self._image[address - self.start : address - self.start + count]

    def _follow_control(self) -> None:
        """Show reversions and setpoints changed by others (control map, timers) in 704."""
        control, m704 = self._control, self._models[704]
        if m704.WSetEna.value == 1 and control.order is not self._order:
            order = control.order
            if order is None:
                m704.WSetEna.value = m704.WSetEnaRvrt.value or 0
            else:
                set_value(m704.WSet, order.power_w)
            self._order = order
        remaining = control.remaining_s()
        set_value(m704.WSetRvrtRem, None if remaining is None else math.ceil(remaining))
        if m704.WMaxLimPctEna.value == 1 and control.wmax_limit is not self._limit:
            limit = control.wmax_limit
            if limit is None:
                m704.WMaxLimPctEna.value = 0
            else:
                set_value(m704.WMaxLimPct, limit.pct)
            self._limit = limit
        expires_s = None if control.wmax_limit is None else control.wmax_limit.expires_s
        rem = None if expires_s is None else math.ceil(max(0.0, expires_s - self._clock.monotonic()))
        set_value(m704.WMaxLimPctRvrtRem, rem)

    # ---- writes ---------------------------------------------------------------------------------
    def write(self, address: int, registers: list[int], client: str) -> None:
        parts = self._index.split_write(address, registers)
        decoded = [(slot.name, _decode(self._points[slot.name], words)) for slot, words in parts]
        for name, raw in decoded:
            self._check(name, raw)
        previous = {name: self._points[name].value for name, _ in decoded}
        for name, raw in decoded:
            self._points[name].value = raw
        try:
            self._apply({name for name, _ in decoded}, client)
        except ModbusError:
            for name, raw in previous.items():
                self._points[name].value = raw
            raise
        finally:
            self._version += 1

    def _check(self, name: str, raw: int) -> None:
        point = self._points[name]
        symbols = point.pdef.get("symbols")
        bad = symbols is not None and raw not in {s["value"] for s in symbols}
        short = point.pdef["name"]
        if short in ("WMaxLimPct", "WMaxLimPctRvrt"):
            bad = not 0 <= raw <= 10_000  # 0..100.00 %
        elif short in ("WSetPct", "WSetPctRvrt", "VarSetPct"):
            bad = not -10_000 <= raw <= 10_000
        elif short in ("WSet", "WSetRvrt", "VarSet"):
            bad = abs(raw) > self._info.rating.max_w
        elif short == "VarSetMod":
            bad = raw not in _VAR_MODES
        elif short.endswith("RvrtTms"):
            bad = raw > MAX_REVERSION_S
        elif short in ("AlarmReset", "AlmRst"):
            bad = raw != 1
        elif short in _OPERATIONS:
            bad = raw not in _OPERATIONS[short]
        if bad:
            raise ModbusError(ExceptionCode.ILLEGAL_VALUE, f"SunSpec {name} = {raw} is out of range")

    def _apply(self, written: set[str], client: str) -> None:
        m704 = self._models[704]
        if any(n.startswith("704.WMaxLimPct") for n in written):
            self._apply_limit(m704)
        if any(n.startswith(("704.WSet", "704.VarSet")) for n in written):
            self._apply_setpoint(m704, client)
        for name in written & {"715.ControllerHb", "802.CtrlHb"}:
            self._control.heartbeat(int(self._points[name].value))
        if written & {"715.AlarmReset", "802.AlmRst"}:
            _check(self._commands.reset_errors(ORIGIN))
        for name in sorted(written):
            short = name.split(".", 1)[1]
            if short in _OPERATIONS:
                state = _OPERATIONS[short][int(self._points[name].value)]
                _check(self._commands.request_state(state, ORIGIN))

    def _apply_limit(self, m704: ssdev.Model) -> None:
        if m704.WMaxLimPctEna.value != 1:
            self._control.set_wmax_limit(None)
            self._limit = None
            return
        tms = int(m704.WMaxLimPctRvrtTms.value or 0)
        revert = m704.WMaxLimPctRvrt.cvalue if m704.WMaxLimPctEnaRvrt.value == 1 else None
        expires_s = self._clock.monotonic() + tms if tms > 0 else None
        self._limit = TimedLimit(float(m704.WMaxLimPct.cvalue), expires_s, revert)
        self._control.set_wmax_limit(self._limit)

    def _apply_setpoint(self, m704: ssdev.Model, client: str) -> None:
        control = self._control
        if m704.WSetEna.value != 1:
            control.release()
            self._order = None
            return
        if self._status.get().get("mode") != EXTERNAL_MODE:
            # Enabling WSet hands the node to the SCADA: the one mode in which direct setpoints apply.
            _check(self._commands.request_mode(EXTERNAL_MODE, ORIGIN))
            self._status.invalidate()
        max_w = self._info.rating.max_w
        if m704.WSetMod.value == 0:  # W_MAX_PCT
            power_w = float(m704.WSetPct.cvalue) * max_w / 100.0
            revert_w = float(m704.WSetPctRvrt.cvalue) * max_w / 100.0
        else:
            power_w, revert_w = float(m704.WSet.cvalue), float(m704.WSetRvrt.cvalue)
        tms = int(m704.WSetRvrtTms.value or 0)
        _check(
            control.set_power(
                power_w,
                _reactive_var(m704, max_w),
                client,
                revert_after_s=float(tms) if tms > 0 else None,
                revert_w=revert_w if m704.WSetEnaRvrt.value == 1 else None,
            )
        )
        self._order = control.order


def _reactive_var(m704: ssdev.Model, max_w: float) -> float:
    """VarSet goes with the active setpoint: in var (VARS) or in % of WMax (W_MAX_PCT); 0 when disabled."""
    if m704.VarSetEna.value != 1:
        return 0.0
    if m704.VarSetMod.value == _VAR_MODES["W_MAX_PCT"]:
        return float(m704.VarSetPct.cvalue) * max_w / 100.0
    return float(m704.VarSet.cvalue)


def _check(result: CommandResult) -> None:
    if not result.ok:
        raise from_status(result.status, result.message)


def layout(model_ids: tuple[int, ...]) -> list[tuple[int, ssdev.Model]]:
    """(address of the ID register, model) for the chain after the SunS marker at BASE."""
    chain: list[tuple[int, ssdev.Model]] = []
    address = BASE + len(MARKER)
    for model_id in model_ids:
        model = ssdev.Model(model_id)
        model.ID.value, model.L.value = model_id, model.len - 2
        chain.append((address, model))
        address += model.len
    return chain


def model_points(model: ssdev.Model) -> list[ssdev.Point]:
    points = [p for name, p in model.points.items() if name not in ("ID", "L")]
    for group in model.groups.values():
        if isinstance(group, list):
            continue  # repeating groups: none of our models uses one
        points.extend(group.points.values())
    return points


def _words(data: bytes) -> list[int]:
    return list(struct.unpack(f">{len(data) // 2}H", data))


def _decode(point: ssdev.Point, words: list[int]) -> int:
    data = b"".join(w.to_bytes(2, "big") for w in words)
    return int(struct.unpack(_FORMATS[point.pdef["type"]], data)[0])
