"""Pack = racks in parallel: sum of currents, SoC weighted by capacity, cell extremes over all
racks (summary frames, else the per-cell frames), and current limits = the weakest rack's limit
x racks online (parallel racks do not share current evenly, so the weakest one decides)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import fmean

from sitecontroller.bms.racks import RackSample
from sitecontroller.core.readings import BmsReading, RackReading


def aggregate(samples: Sequence[RackSample], default_capacity_ah: float) -> BmsReading | None:
    online = [s for s in samples if s.online]
    if not online:
        return None
    weights = [s.capacity_ah or default_capacity_ah for s in online]
    total_w = sum(weights)
    soh = [(s.soh_pct, w) for s, w in zip(online, weights, strict=True) if s.soh_pct is not None]
    return BmsReading(
        soc_pct=sum(s.soc_pct * w for s, w in zip(online, weights, strict=True)) / total_w,
        voltage_v=fmean(s.voltage_v for s in online),
        current_a=sum(s.current_a for s in online),
        soh_pct=sum(v * w for v, w in soh) / sum(w for _, w in soh) if soh else None,
        cell_voltage_min_v=_pick(min, [cell_min_v(s) for s in online]),
        cell_voltage_max_v=_pick(max, [cell_max_v(s) for s in online]),
        cell_voltage_avg_v=_pick(fmean, [cell_avg_v(s) for s in online]),
        cell_temp_min_c=_pick(min, [cell_temp_min_c(s) for s in online]),
        cell_temp_max_c=_pick(max, [cell_temp_max_c(s) for s in online]),
        charge_current_limit_a=_pack_limit([charge_limit_a(s) for s in online]),
        discharge_current_limit_a=_pack_limit([discharge_limit_a(s) for s in online]),
        racks_online=len(online),
        racks_total=len(samples),
        alarms=frozenset().union(*(s.alarms for s in online)),
        protections=frozenset().union(*(s.protections for s in online)),
        racks=tuple(rack_reading(s) for s in online),
    )


def cell_min_v(s: RackSample) -> float | None:
    return s.cell_voltage_min_v if s.cell_voltage_min_v is not None else _known(min, s.cell_voltages_v)


def cell_max_v(s: RackSample) -> float | None:
    return s.cell_voltage_max_v if s.cell_voltage_max_v is not None else _known(max, s.cell_voltages_v)


def cell_avg_v(s: RackSample) -> float | None:
    return s.cell_voltage_avg_v if s.cell_voltage_avg_v is not None else _known(fmean, s.cell_voltages_v)


def cell_temp_min_c(s: RackSample) -> float | None:
    return s.cell_temp_min_c if s.cell_temp_min_c is not None else _known(min, s.cell_temps_c)


def cell_temp_max_c(s: RackSample) -> float | None:
    return s.cell_temp_max_c if s.cell_temp_max_c is not None else _known(max, s.cell_temps_c)


def charge_limit_a(s: RackSample) -> float | None:
    return 0.0 if s.charge_enabled == 0 else s.charge_current_limit_a


def discharge_limit_a(s: RackSample) -> float | None:
    return 0.0 if s.discharge_enabled == 0 else s.discharge_current_limit_a


def rack_reading(s: RackSample) -> RackReading:
    return RackReading(
        rack_id=s.rack_id,
        online=s.online,
        voltage_v=s.voltage_v,
        current_a=s.current_a,
        soc_pct=s.soc_pct,
        soh_pct=s.soh_pct,
        cell_voltage_min_v=cell_min_v(s),
        cell_voltage_max_v=cell_max_v(s),
        cell_temp_min_c=cell_temp_min_c(s),
        cell_temp_max_c=cell_temp_max_c(s),
        charge_current_limit_a=charge_limit_a(s),
        discharge_current_limit_a=discharge_limit_a(s),
        alarms=s.alarms,
        protections=s.protections,
        balancing=bool(s.balancing),
    )


def _pack_limit(limits: list[float | None]) -> float | None:
    # One rack without a known limit makes the pack limit unknown: the power limit then allows 0.
    if any(v is None for v in limits):
        return None
    return min(v for v in limits if v is not None) * len(limits)


def _pick(fn: Callable[[list[float]], float], values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return fn(known) if known else None


def _known(fn: Callable[[list[float]], float], values: Sequence[float | None]) -> float | None:
    return _pick(fn, list(values))
