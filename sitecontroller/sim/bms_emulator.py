"""BMS emulator: the plant's battery state encoded into our DBC's frames on a python-can bus.

It is driven by the same binding the production decoder uses (inverse direction), so every
protocol we support can be emulated, at the DBC cycle times, per-cell frames included. It also
behaves like a simple BMS: it computes current limits that taper near full and empty.
Faults are injected through `faults` (a rack or the whole BMS silent, corrupt frames, protection
and alarm bits, one cell pushed over or under voltage).

Plant cells map cyclically onto the protocol's cells when the plant models fewer cells.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Protocol

import can
from cantools.database.can import Message

from sitecontroller.bms.binding import Binding, CellRef
from sitecontroller.core.clock import Clock

RUN_STATE = 3


class PlantRack(Protocol):
    """What the emulator needs of a rack (sitecontroller.sim.battery.Rack satisfies it)."""

    rack_id: int
    soc_pct: float
    current_a: float  # positive = discharge
    online: bool

    @property
    def voltage_v(self) -> float: ...

    @property
    def cell_voltages_v(self) -> Sequence[float]: ...

    @property
    def cell_temps_c(self) -> Sequence[float]: ...


class PlantBattery(Protocol):
    @property
    def racks(self) -> Sequence[PlantRack]: ...


@dataclass
class EmulatorFaults:
    silent: bool = False
    silent_racks: set[int] = field(default_factory=set)
    corrupt_every: int = 0  # every n-th frame is sent truncated to 1 byte (0 = never)
    protections: dict[int, set[str]] = field(default_factory=dict)  # rack -> flag names
    alarms: dict[int, set[str]] = field(default_factory=dict)
    cell_override_v: dict[int, float] = field(default_factory=dict)  # rack -> voltage of its cell 1


@dataclass(frozen=True, slots=True)
class _RackView:
    rack_id: int
    voltage_v: float
    current_a: float
    soc_pct: float
    cells_v: tuple[float, ...]
    temps_c: tuple[float, ...]


class BmsEmulator:
    def __init__(
        self,
        binding: Binding,
        battery: Callable[[], PlantBattery],
        bus: can.BusABC,
        *,
        soh_pct: float = 98.0,
        rack_current_limit_a: float = 100.0,
        capacity_ah: float = 100.0,
        manufacturer: str = "PYLON",
    ) -> None:
        self._binding = binding
        self._battery = battery
        self._bus = bus
        self._soh_pct = soh_pct
        self._limit_a = rack_current_limit_a
        self._capacity_ah = capacity_ah
        self._manufacturer = manufacturer
        self._messages = [m for m in binding.db.messages if "BMS" in m.senders]
        self._next_due_s: dict[str, float] = {}
        self._sent = 0
        self._built = 0
        self.faults = EmulatorFaults()

    @property
    def sent(self) -> int:
        return self._sent

    # ---------------------------------------------------------------- encoding
    def all_frames(self) -> list[can.Message]:
        """One of every BMS frame (every multiplexer group) for every rack, faults applied."""
        return self._frames(self._messages)

    def frames_due(self, now_s: float) -> list[can.Message]:
        due = []
        for m in self._messages:
            next_s = self._next_due_s.get(m.name, now_s)
            if now_s + 1e-9 >= next_s:
                due.append(m)
                # Fixed rate without drift; after a long pause, restart from now.
                cycle_s = (m.cycle_time or 1000) / 1000.0
                self._next_due_s[m.name] = max(next_s + cycle_s, now_s)
        return self._frames(due)

    def send(self, frames: Sequence[can.Message]) -> None:
        for frame in frames:
            self._bus.send(frame)
        self._sent += len(frames)

    async def run(self, clock: Clock, tick_s: float = 0.01) -> None:
        while True:
            self.send(self.frames_due(clock.monotonic()))
            await asyncio.sleep(tick_s)

    def _frames(self, messages: Sequence[Message]) -> list[can.Message]:
        if self.faults.silent:
            return []
        out = []
        for rack in self._racks():
            if rack.rack_id in self.faults.silent_racks:
                continue
            values = self._field_values(rack)
            for m in messages:
                for data in self._encode(m, rack, values):
                    out.append(self._frame(m, rack.rack_id, data))
        return out

    def _frame(self, message: Message, rack_id: int, data: bytes) -> can.Message:
        n = self.faults.corrupt_every
        self._built += 1
        if n and self._built % n == 0:
            data = data[:1]
        return can.Message(
            arbitration_id=self._binding.frame_id(message.name, rack_id),
            is_extended_id=message.is_extended_frame,
            data=data,
        )

    def _racks(self) -> list[_RackView]:
        racks = [r for r in self._battery().racks if r.online]
        views = [
            _RackView(
                r.rack_id,
                r.voltage_v,
                r.current_a,
                r.soc_pct,
                self._cells_with_override(r.rack_id, r.cell_voltages_v),
                tuple(r.cell_temps_c),
            )
            for r in racks
        ]
        if self._binding.rack_layout is not None or not views:
            return views
        # A single-pack protocol reports the racks as one pack.
        return [
            _RackView(
                0,
                fmean(v.voltage_v for v in views),
                sum(v.current_a for v in views),
                fmean(v.soc_pct for v in views),
                tuple(c for v in views for c in v.cells_v),
                tuple(t for v in views for t in v.temps_c),
            )
        ]

    def _cells_with_override(self, rack_id: int, cells: Sequence[float]) -> tuple[float, ...]:
        override = self.faults.cell_override_v.get(rack_id)
        return tuple(cells) if override is None else (override, *tuple(cells)[1:])

    def _field_values(self, rack: _RackView) -> dict[str, float]:
        cells, temps = rack.cells_v, rack.temps_c
        i_min = min(range(len(cells)), key=cells.__getitem__)
        i_max = max(range(len(cells)), key=cells.__getitem__)
        t_min = min(range(len(temps)), key=temps.__getitem__)
        t_max = max(range(len(temps)), key=temps.__getitem__)
        # A BMS tapers its limits near full and empty.
        ccl = self._limit_a * min(1.0, max(0.0, (100.0 - rack.soc_pct) / 5.0))
        dcl = self._limit_a * min(1.0, max(0.0, rack.soc_pct / 5.0))
        return {
            "voltage_v": rack.voltage_v,
            "current_a": rack.current_a,
            "soc_pct": rack.soc_pct,
            "soh_pct": self._soh_pct,
            "state": RUN_STATE,
            "cell_voltage_min_v": cells[i_min],
            "cell_voltage_max_v": cells[i_max],
            "cell_voltage_avg_v": fmean(cells),
            "cell_voltage_min_index": i_min + 1,
            "cell_voltage_max_index": i_max + 1,
            "cell_temp_min_c": temps[t_min],
            "cell_temp_max_c": temps[t_max],
            "cell_temp_min_index": t_min + 1,
            "cell_temp_max_index": t_max + 1,
            "charge_current_limit_a": ccl,
            "discharge_current_limit_a": dcl,
            "charge_voltage_limit_v": 3.55 * len(cells),
            "discharge_voltage_limit_v": 2.9 * len(cells),
            "charge_enabled": 1,
            "discharge_enabled": 1,
            "balancing": 0,
            "capacity_ah": self._capacity_ah,
        }

    def _encode(self, message: Message, rack: _RackView, fields: dict[str, float]) -> list[bytes]:
        b = self._binding
        base: dict[str, float] = {s.name: 0 for s in message.signals}
        for name, refs in b.fields.items():
            for ref in refs:
                if ref.message == message.name and name in fields:
                    base[ref.signal] = ref.to_device(fields[name])
        for flags, active in ((b.protections, self.faults.protections), (b.alarms, self.faults.alarms)):
            for name in active.get(rack.rack_id, set()):
                for ref in flags.get(name, ()):
                    if ref.message == message.name:
                        base[ref.signal] = min(ref.active)
        self._constants(message, base)
        cell_ref = next((c for c in (b.cell_voltages, b.cell_temps) if c and c.message == message.name), None)
        if cell_ref is None:
            return [message.encode(_clamped(message, base))]
        return self._encode_cells(message, cell_ref, rack, base)

    def _encode_cells(
        self, message: Message, ref: CellRef, rack: _RackView, base: dict[str, float]
    ) -> list[bytes]:
        source = rack.cells_v if ref is self._binding.cell_voltages else rack.temps_c
        mux_name = next(s.name for s in message.signals if s.is_multiplexer)
        groups: dict[int, dict[str, float]] = {}
        for k in range(ref.count):
            signal = ref.signal(k)
            group = ref.mux_of[signal] or 0
            groups.setdefault(group, {mux_name: group})[signal] = source[k % len(source)]
        return [message.encode(_clamped(message, values)) for _, values in sorted(groups.items())]

    def _constants(self, message: Message, values: dict[str, float]) -> None:
        if message.name == "ManufacturerName":
            text = self._manufacturer.ljust(8)[:8].encode("ascii")
            values.update({f"Char{i}": text[i] for i in range(8)})
        if message.name == "PylonFlags":
            values.update({"Token1": 0x50, "Token2": 0x4E, "ModuleCount": len(self._battery().racks)})
        if message.name == "VictronAlarms":
            # 2 = OK for every supported field that is not active (the dfch capture shows 0xAA).
            values.update({k: 2 for k, v in values.items() if v == 0})


def _clamped(message: Message, values: dict[str, float]) -> dict[str, float]:
    out = {}
    for s in message.signals:
        if s.name not in values:
            continue
        v = values[s.name]
        if s.minimum is not None:
            v = max(v, s.minimum)
        if s.maximum is not None:
            v = min(v, s.maximum)
        out[s.name] = v
    return out
