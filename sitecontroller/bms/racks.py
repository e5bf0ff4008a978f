"""One rack's state, read from the latest fresh frames through its binding.

A field whose frame is older than its timeout is None (unknown), never the last value: the
safety chain must see old data as missing. A rack is online only while its presence frame and the
required fields (voltage, current, SoC) are fresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sitecontroller.bms.binding import REQUIRED_FIELDS, Binding, CellRef, FlagRef


class Frame(Protocol):
    @property
    def signals(self) -> Mapping[str, float]: ...


class FrameSource(Protocol):
    def fresh(self, name: str, rack_id: int = 0, mux: int | None = None) -> Frame | None: ...


@dataclass(frozen=True, slots=True)
class RackSample:
    rack_id: int
    online: bool
    voltage_v: float = 0.0
    current_a: float = 0.0
    soc_pct: float = 0.0
    soh_pct: float | None = None
    cell_voltage_min_v: float | None = None
    cell_voltage_max_v: float | None = None
    cell_voltage_avg_v: float | None = None
    cell_voltage_min_index: float | None = None
    cell_voltage_max_index: float | None = None
    cell_temp_min_c: float | None = None
    cell_temp_max_c: float | None = None
    cell_temp_min_index: float | None = None
    cell_temp_max_index: float | None = None
    charge_current_limit_a: float | None = None
    discharge_current_limit_a: float | None = None
    charge_voltage_limit_v: float | None = None
    discharge_voltage_limit_v: float | None = None
    charge_enabled: float | None = None
    discharge_enabled: float | None = None
    balancing: float | None = None
    capacity_ah: float | None = None
    state: float | None = None
    protections: frozenset[str] = frozenset()
    alarms: frozenset[str] = frozenset()
    cell_voltages_v: tuple[float | None, ...] = ()
    cell_temps_c: tuple[float | None, ...] = ()


def read_rack(binding: Binding, frames: FrameSource, rack_id: int) -> RackSample:
    if frames.fresh(binding.presence, rack_id) is None:
        return RackSample(rack_id, online=False)
    values: dict[str, float] = {}
    for name, refs in binding.fields.items():
        for ref in refs:  # first fresh, valid source wins (the binding lists them by preference)
            frame = frames.fresh(ref.message, rack_id)
            raw = None if frame is None else frame.signals.get(ref.signal)
            value = None if raw is None else ref.convert(float(raw))
            if value is not None:
                values[name] = value
                break
    if any(f not in values for f in REQUIRED_FIELDS):
        return RackSample(rack_id, online=False)
    return RackSample(
        rack_id,
        online=True,
        protections=_active(binding.protections, frames, rack_id),
        alarms=_active(binding.alarms, frames, rack_id),
        cell_voltages_v=_cells(binding.cell_voltages, frames, rack_id),
        cell_temps_c=_cells(binding.cell_temps, frames, rack_id),
        **values,  # type: ignore[arg-type]
    )


def _active(flags: Mapping[str, tuple[FlagRef, ...]], frames: FrameSource, rack_id: int) -> frozenset[str]:
    out = set()
    for name, refs in flags.items():
        for ref in refs:
            frame = frames.fresh(ref.message, rack_id)
            if frame is not None and int(frame.signals.get(ref.signal, 0)) in ref.active:
                out.add(name)
                break
    return frozenset(out)


def _cells(ref: CellRef | None, frames: FrameSource, rack_id: int) -> tuple[float | None, ...]:
    if ref is None:
        return ()
    out: list[float | None] = []
    for k in range(ref.count):
        signal = ref.signal(k)
        frame = frames.fresh(ref.message, rack_id, ref.mux_of[signal])
        value = None if frame is None else frame.signals.get(signal)
        out.append(None if value is None else float(value))
    return tuple(out)
