"""Builds the mode controllers' SiteSnapshot from a node's DataStore snapshot and its limits."""

from __future__ import annotations

from masterController.control.snapshot import SiteSnapshot
from sitecontroller.core.datastore import Snapshot
from sitecontroller.core.readings import BmsReading, InverterReading, MeterReading
from sitecontroller.safety.limiter import Limits


def site_snapshot(
    snap: Snapshot, limits: Limits, wall_s: float, service_power_w: float
) -> SiteSnapshot | None:
    """None when the battery is unknown: no mode may decide without it."""
    bms = snap.fresh("bms")
    if not isinstance(bms, BmsReading):
        return None
    meter = snap.fresh("meter.grid")
    inverter = snap.fresh("inverter")
    pv = snap.fresh("meter.pv")
    load = snap.fresh("meter.load")
    battery_w = inverter.power_w if isinstance(inverter, InverterReading) else 0.0
    grid_w = meter.power_w if isinstance(meter, MeterReading) else 0.0
    freq_hz = _first(
        meter.freq_hz if isinstance(meter, MeterReading) else None,
        inverter.freq_hz if isinstance(inverter, InverterReading) else None,
    )
    voltage_v = _first(
        meter.voltage_v if isinstance(meter, MeterReading) else None,
        inverter.voltage_v if isinstance(inverter, InverterReading) else None,
    )
    pv_w = pv.power_w if isinstance(pv, MeterReading) else 0.0
    return SiteSnapshot(
        now_s=snap.at_s,
        wall_s=wall_s,
        grid_power_w=grid_w,
        battery_power_w=battery_w,
        soc_pct=bms.soc_pct,
        max_discharge_w=limits.discharge_w,
        max_charge_w=limits.charge_w,
        pv_power_w=-pv_w if pv_w < 0 else pv_w,
        load_power_w=load.power_w if isinstance(load, MeterReading) else grid_w + battery_w + pv_w,
        grid_freq_hz=50.0 if freq_hz is None else freq_hz,
        grid_voltage_v=230.0 if voltage_v is None else voltage_v,
        meter_valid=isinstance(meter, MeterReading),
        service_power_w=service_power_w,
    )


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)
