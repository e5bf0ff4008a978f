"""The status document served at GET /api/status. Field names are a contract: extend, never rename."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from enum import Enum
from typing import TYPE_CHECKING

from sitecontroller import __version__
from sitecontroller.core.readings import BmsReading, InverterReading, MeterReading

if TYPE_CHECKING:
    from sitecontroller.runtime.daemon import Daemon

STATES = ("Init", "Run", "Sleep", "Maintenance", "Error", "Reboot", "Restart")
ROLES = ("standalone", "leader", "follower", "candidate")


def build_status(daemon: Daemon) -> dict[str, object]:
    core = daemon.core
    snap = daemon.store.snapshot()
    bms = snap.fresh("bms")
    inverter = snap.fresh("inverter")
    meter = snap.fresh("meter.grid")
    limits = core.last.limits
    frequency_hz = meter.freq_hz if isinstance(meter, MeterReading) else None
    if frequency_hz is None and isinstance(inverter, InverterReading):
        frequency_hz = inverter.freq_hz
    cluster = daemon.cluster_status()
    document: dict[str, object] = {
        "node_id": daemon.config.identity.node_id,
        "site_id": daemon.config.identity.site_id,
        "state": core.state.value,
        "mode": daemon.modes.mode.value,
        "role": "standalone",
        "term": 0,
        "leader_id": None,
        "soc_pct": _round(bms.soc_pct if isinstance(bms, BmsReading) else None),
        "battery_power_w": _round(inverter.power_w if isinstance(inverter, InverterReading) else None),
        "setpoint_w": _round(daemon.setpoint_w),
        "requested_w": _round(core.request.power_w),
        "frequency_response_w": _round(core.frequency_offset_w),
        "request_reason": core.request.reason,
        "grid_power_w": _round(meter.power_w if isinstance(meter, MeterReading) else None),
        "frequency_hz": _round(frequency_hz, 3),
        "charge_limit_w": _round(limits.charge_w),
        "discharge_limit_w": _round(limits.discharge_w),
        "limiting_source": core.last.limited_by,
        "charge_limit_source": limits.charge_source,
        "discharge_limit_source": limits.discharge_source,
        "soh_pct": _round(bms.soh_pct if isinstance(bms, BmsReading) else None),
        "dc_voltage_v": _round(bms.voltage_v if isinstance(bms, BmsReading) else None),
        "dc_current_a": _round(bms.current_a if isinstance(bms, BmsReading) else None),
        "cell_voltage_min_v": _round(bms.cell_voltage_min_v if isinstance(bms, BmsReading) else None, 3),
        "cell_voltage_max_v": _round(bms.cell_voltage_max_v if isinstance(bms, BmsReading) else None, 3),
        "cell_temp_min_c": _round(bms.cell_temp_min_c if isinstance(bms, BmsReading) else None),
        "cell_temp_max_c": _round(bms.cell_temp_max_c if isinstance(bms, BmsReading) else None),
        "errors": [e.to_json() for e in core.active_errors()],
        "stale_sources": sorted(s for s in snap.timeouts_s if snap.is_stale(s)),
        "uptime_s": round(daemon.clock.monotonic() - daemon.started_s, 1),
        "version": __version__,
    }
    # A standalone node is a cluster of one; a clustered node reports the master's view.
    document.update(
        nodes_online=1,
        cluster_soc_pct=document["soc_pct"],
        cluster_charge_limit_w=document["charge_limit_w"],
        cluster_discharge_limit_w=document["discharge_limit_w"],
    )
    document.update(cluster)
    document["cloud"] = daemon.cloud.link_status() if daemon.cloud is not None else {"state": "disabled"}
    document.update(daemon.devices.extra_status)
    return document


def device_readings(daemon: Daemon) -> dict[str, object]:
    """Every fresh device reading as JSON (telemetry): BMS, inverter, meters, inputs, sensors, climate."""
    snap = daemon.store.snapshot()
    return {
        source: _jsonable(value)
        for source in sorted(snap.readings)
        if (value := snap.fresh(source)) is not None
    }


def _jsonable(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(_jsonable(v) for v in value)  # type: ignore[type-var]
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 4)
    return value


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
