"""What the SunSpec models say: identity, ratings and scale factors once, the live status on refresh.

Values go in in site units through `set_value`, which applies the point's scale factor and turns what
the register type cannot carry into "not implemented" (SunSpec's own not-available value).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import sunspec2.device as ssdev

from sitecontroller.config.scada import SunSpecViewConfig
from sitecontroller.core.readings import MeterReading
from sitecontroller.scada.control import Rating

EXTERNAL_MODE = "external_control"
METER_MODEL = 203
_LIMITS = {
    "int16": (-32767, 32767),
    "uint16": (0, 65534),
    "int32": (-(2**31) + 1, 2**31 - 1),
    "uint32": (0, 2**32 - 2),
    "acc32": (0, 2**32 - 1),
    "enum16": (0, 65534),
}
_INVST = {"Init": 2, "Run": 3, "Sleep": 1, "Maintenance": 7, "Error": 6, "Reboot": 5, "Restart": 5}
_BATTERY_STATE = {"Init": 2, "Run": 3, "Sleep": 4, "Maintenance": 4, "Error": 99}


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the common model and the capacity models say about this node."""

    node_id: str
    version: str
    rating: Rating


def fill_static(models: Mapping[int, ssdev.Model], config: SunSpecViewConfig, info: DeviceInfo) -> None:
    """Ratings, identity, scale factors and the initial values of the writable controls."""
    rating = info.rating
    power_sf = _sf_for(max(rating.max_w, 1.0), 32767)
    energy_sf = _sf_for(max(rating.capacity_wh, 1.0), 65534)
    common = models[1]
    _text(common.Mn, config.manufacturer)
    _text(common.Md, config.model)
    _text(common.Vr, info.version)
    _text(common.SN, info.node_id)
    common.DA.value = config.unit_id
    m701, m702, m704 = models[701], models[702], models[704]
    m701.ACType.value = 2
    for sf, value in (
        ("W_SF", power_sf),
        ("Hz_SF", -3),
        ("V_SF", -1),
        ("A_SF", -1),
        ("Var_SF", power_sf),
        ("VA_SF", power_sf),
        ("PF_SF", -3),
        ("TotWh_SF", 0),
        ("TotVarh_SF", 0),
        ("Tmp_SF", -1),
    ):
        m701.points[sf].value = value
    for sf in ("W_SF", "VA_SF", "Var_SF"):
        m702.points[sf].value = power_sf
    for name, value in (("PF_SF", -3), ("V_SF", -1), ("A_SF", -1), ("S_SF", 0)):
        m702.points[name].value = value
    for name, value in (
        ("WMaxRtg", rating.max_w),
        ("WChaRteMaxRtg", rating.max_charge_w),
        ("WDisChaRteMaxRtg", rating.max_discharge_w),
        ("WMax", rating.max_w),
        ("WChaRteMax", rating.max_charge_w),
        ("WDisChaRteMax", rating.max_discharge_w),
    ):
        set_value(m702.points[name], value)
    for name, value in (
        ("PF_SF", -3),
        ("WMaxLimPct_SF", -2),
        ("WSet_SF", 0),
        ("WSetPct_SF", -2),
        ("VarSet_SF", 0),
        ("VarSetPct_SF", -2),
    ):
        m704.points[name].value = value
    for name, value in (
        ("WMaxLimPctEna", 0),
        ("WSetEna", 0),
        ("WSetMod", 1),
        ("WSetEnaRvrt", 0),
        ("WMaxLimPctEnaRvrt", 0),
        ("WSetRvrtTms", 0),
        ("WMaxLimPctRvrtTms", 0),
        ("VarSetEna", 0),
        ("VarSetMod", 4),
    ):  # 4: VARS
        m704.points[name].value = value
    for name, value in (
        ("WMaxLimPct", 100.0),
        ("WMaxLimPctRvrt", 100.0),
        ("WSet", 0.0),
        ("WSetRvrt", 0.0),
        ("WSetPct", 0.0),
        ("WSetPctRvrt", 0.0),
        ("VarSet", 0.0),
        ("VarSetPct", 0.0),
    ):
        set_value(m704.points[name], value)
    m713 = models[713]
    m713.WH_SF.value, m713.Pct_SF.value = energy_sf, -1
    set_value(m713.WHRtg, rating.capacity_wh)
    m715 = models[715]
    m715.ControllerHb.value, m715.AlarmReset.value, m715.OpCtl.value = 0, 0, 1
    m802 = models[802]
    for name, value in (
        ("WHRtg_SF", energy_sf),
        ("WChaDisChaMax_SF", power_sf),
        ("SoC_SF", -1),
        ("SoH_SF", -1),
        ("V_SF", -1),
        ("CellV_SF", -3),
        ("A_SF", -1),
        ("W_SF", power_sf),
    ):
        m802.points[name].value = value
    set_value(m802.WHRtg, rating.capacity_wh)
    m802.Typ.value, m802.CtrlHb.value, m802.AlmRst.value, m802.SetOp.value = 4, 0, 0, 1
    m802.SetInvState.value = 3
    if METER_MODEL in models:
        m203 = models[METER_MODEL]
        for name, value in (
            ("A_SF", -1),
            ("V_SF", -1),
            ("Hz_SF", -2),
            ("W_SF", power_sf),
            ("VA_SF", power_sf),
            ("VAR_SF", power_sf),
            ("PF_SF", -3),
            ("TotWh_SF", 0),
            ("TotVAh_SF", 0),
            ("TotVArh_SF", 0),
        ):
            m203.points[name].value = value


def fill_live(
    models: Mapping[int, ssdev.Model], status: Mapping[str, object], info: DeviceInfo, now_s: float
) -> None:
    """The status snapshot into the measurement, capacity, control-state and battery models."""
    state = str(status.get("state"))
    power_w = number(status.get("battery_power_w"))
    errors = status.get("errors") or []
    severities = {str(e.get("severity")) for e in errors if isinstance(e, Mapping)}  # type: ignore[union-attr]
    remote = status.get("mode") == EXTERNAL_MODE
    m701 = models[701]
    m701.St.value = int(state == "Run")
    m701.InvSt.value = _INVST.get(state, 0)
    m701.ConnSt.value = int(state == "Run")
    m701.Alrm.value = (1 << 16) if errors else 0
    m701.DERMode.value = 1  # grid following
    set_value(m701.W, power_w)
    set_value(m701.Hz, number(status.get("frequency_hz")))
    soc = number(status.get("soc_pct"))
    m713 = models[713]
    set_value(m713.SoC, soc)
    set_value(m713.SoH, number(status.get("soh_pct")))
    set_value(m713.WHAvail, None if soc is None else info.rating.capacity_wh * soc / 100.0)
    m713.Sta.value = 2 if severities & {"error", "critical"} else int(bool(severities))
    m715 = models[715]
    m715.LocRemCtl.value = 0 if remote else 1
    m715.DERHb.value = int(now_s) & 0xFFFFFFFF
    m802 = models[802]
    set_value(m802.SoC, soc)
    set_value(m802.SoH, number(status.get("soh_pct")))
    set_value(m802.WChaRteMax, number(status.get("charge_limit_w")))
    set_value(m802.WDisChaRteMax, number(status.get("discharge_limit_w")))
    set_value(m802.W, power_w)
    set_value(m802.V, number(status.get("dc_voltage_v")))
    set_value(m802.A, number(status.get("dc_current_a")))
    set_value(m802.CellVMax, number(status.get("cell_voltage_max_v")))
    set_value(m802.CellVMin, number(status.get("cell_voltage_min_v")))
    m802.LocRemCtl.value = m715.LocRemCtl.value
    m802.Hb.value = int(now_s) & 0xFFFF
    m802.State.value = _BATTERY_STATE.get(state, 1)
    m802.ChaSt.value = _charge_state(state, power_w)


def number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def set_value(point: ssdev.Point, value: float | None) -> None:
    """Site value -> raw with the point's scale factor; what the type cannot carry is "not implemented"."""
    if value is None:
        point.value = None
        return
    sf_name = point.pdef.get("sf")
    sf = 0
    if sf_name:
        sf_point = point.group.points.get(sf_name) or point.model.points.get(sf_name)
        sf = int(sf_point.value or 0)
    raw = round(value / 10.0**sf)
    low, high = _LIMITS.get(point.pdef["type"], (0, 0))
    point.value = raw if low <= raw <= high else None


def _text(point: ssdev.Point, text: str) -> None:
    point.value = text[: point.len * 2]


def _sf_for(magnitude: float, limit: int) -> int:
    """The smallest scale factor >= 0 with which `magnitude` fits the register."""
    sf = 0
    while magnitude / 10.0**sf > limit:
        sf += 1
    return sf


def _charge_state(state: str, power_w: float | None) -> int:
    if state != "Run" or power_w is None:
        return 1  # OFF
    if power_w > 0:
        return 3  # DISCHARGING
    return 4 if power_w < 0 else 6  # CHARGING / HOLDING


def fill_meter(model: ssdev.Model, reading: MeterReading | None) -> None:
    """SunSpec 203 from the site meter's reading (W positive = import, as the meter models define)."""
    r = reading
    phases = r.phase_voltage_v if r is not None else ()
    currents = r.phase_current_a if r is not None else ()
    powers = r.phase_power_w if r is not None else ()
    set_value(model.W, None if r is None else r.power_w)
    set_value(model.Hz, None if r is None else r.freq_hz)
    set_value(model.VAR, None if r is None else r.reactive_power_var)
    set_value(model.PhV, None if r is None else r.voltage_v)
    set_value(model.A, sum(currents) if currents else None)
    for index, phase in enumerate("ABC"):
        set_value(model.points[f"PhVph{phase}"], phases[index] if index < len(phases) else None)
        set_value(model.points[f"Aph{phase}"], currents[index] if index < len(currents) else None)
        set_value(model.points[f"Wph{phase}"], powers[index] if index < len(powers) else None)
    set_value(model.TotWhImp, None if r is None else r.import_energy_wh)
    set_value(model.TotWhExp, None if r is None else r.export_energy_wh)
