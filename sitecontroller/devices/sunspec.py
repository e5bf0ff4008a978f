"""SunSpec devices: scan the model chain, then build a register map from pysunspec2's model definitions.

Nothing is hand-copied: offsets, types and scale-factor links come from the JSON models that
pysunspec2 ships, so the generic engine and drivers serve SunSpec DER inverters (1, 701-715, or the
legacy 1xx/124 set) and meters (201-204) like any other map. Point names are `m<model>_<point>`
in lower case, e.g. `m701_w`, `m704_wset_sf`. Repeating groups are not mapped (none is needed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sunspec2.device as ssdev
from sunspec2.mdef import ModelDefinitionError

from sitecontroller.devices.regmap import Command, Heartbeat, Point, RegisterMap, Source, StateRule, Step
from sitecontroller.devices.transport import DeviceIOError, Transport

BASE_ADDRESSES = (40000, 0, 50000)
MARKER = [0x5375, 0x6E53]  # "SunS"
END_MODEL_ID = 0xFFFF
METER_MODELS = (201, 202, 203, 204)
PHASES = {201: "a", 202: "ab", 203: "abc", 204: "abc"}
_TYPES = {
    "uint16": "u16",
    "enum16": "u16",
    "bitfield16": "u16",
    "count": "u16",
    "int16": "s16",
    "sunssf": "s16",
    "uint32": "u32",
    "enum32": "u32",
    "bitfield32": "u32",
    "acc32": "u32",
    "int32": "s32",
    "float32": "f32",
    "uint64": "u64",
    "acc64": "u64",
    "int64": "s64",
    "string": "string",
}
# SunSpec's "not implemented" values per register type (accumulators: 0)
_NOT_IMPLEMENTED = {
    "u16": (0xFFFF,),
    "s16": (0x8000,),
    "u32": (0xFFFFFFFF,),
    "s32": (0x80000000,),
    "u64": (0xFFFFFFFFFFFFFFFF,),
    "s64": (0x8000000000000000,),
    "f32": (),
}
# 701 InvSt and 103 St enums -> our states
_INVST_701 = {
    "0": "off",
    "1": "standby",
    "2": "standby",
    "3": "running",
    "4": "running",
    "5": "standby",
    "6": "fault",
    "7": "standby",
}
_ST_103 = {
    "1": "off",
    "2": "standby",
    "3": "standby",
    "4": "running",
    "5": "running",
    "6": "standby",
    "7": "fault",
    "8": "standby",
}


@dataclass(frozen=True, slots=True)
class ModelRef:
    model_id: int
    address: int  # of the model's ID register
    length: int  # L: registers after ID and L


async def scan(transport: Transport, unit: int) -> tuple[int, list[ModelRef]]:
    """Find the "SunS" marker at 40000, 0 or 50000 and walk the model chain to the end model."""
    errors: list[str] = []
    for base in BASE_ADDRESSES:
        try:
            if await transport.read("holding", base, 2, unit) != MARKER:
                errors.append(f"{base}: no SunS marker")
                continue
            models: list[ModelRef] = []
            address = base + 2
            while True:
                model_id, length = await transport.read("holding", address, 2, unit)
                if model_id == END_MODEL_ID:
                    return base, models
                models.append(ModelRef(model_id, address, length))
                address += length + 2
        except DeviceIOError as exc:
            errors.append(f"{base}: {exc}")
    raise DeviceIOError("no SunSpec device: " + "; ".join(errors))


def layout(model_ids: Iterable[int], base: int = 40000) -> list[ModelRef]:
    """Where each model sits when the models are laid out back to back after the marker at `base`."""
    refs: list[ModelRef] = []
    address = base + 2
    for model_id in model_ids:
        length = ssdev.Model(model_id).len - 2  # Model.len counts the ID and L registers
        refs.append(ModelRef(model_id, address, length))
        address += length + 2
    return refs


def point_name(model_id: int, name: str) -> str:
    return f"m{model_id}_{name.lower()}"


def model_points(ref: ModelRef) -> dict[str, Point]:
    """The model's points: top level, then its fixed groups (`m704_pfwinj_pf`), up to the first
    repeating group, whose size depends on a count register. Vendor models without a definition
    in pysunspec2 give no points."""
    try:
        definition = ssdev.get_model_def(ref.model_id)["group"]
    except ModelDefinitionError:
        return {}
    points: dict[str, Point] = {}
    offset = _add_points(points, ref, definition["points"], "", 0)
    for group in definition.get("groups", []):
        if group.get("count") not in (None, 1):
            break
        offset = _add_points(points, ref, group["points"], group["name"].lower() + "_", offset)
    return points


def _add_points(
    points: dict[str, Point], ref: ModelRef, specs: list[dict[str, Any]], prefix: str, offset: int
) -> int:
    for spec in specs:
        size = int(spec["size"])
        kind = _TYPES.get(spec["type"])
        if kind is not None and offset < ref.length + 2:
            points[point_name(ref.model_id, prefix + spec["name"])] = Point(
                address=ref.address + offset,
                table="holding",
                type=kind,  # type: ignore[arg-type]
                count=size if kind == "string" else 0,
                scale_factor=point_name(ref.model_id, spec["sf"]) if spec.get("sf") else None,
                not_available=(0,) if spec["type"] == "acc32" else _NOT_IMPLEMENTED.get(kind, ()),
                access="rw" if spec.get("access") == "RW" else "r",
                unit=spec.get("units", ""),
                description=spec.get("label", ""),
            )
        offset += size
    return offset


@dataclass
class _Spec:
    reading: dict[str, str | tuple[str, ...]]
    state: StateRule | None = None
    commands: dict[str, Command] = field(default_factory=dict)
    heartbeat: Heartbeat | None = None
    ranges: dict[str, dict[str, float]] = field(default_factory=dict)
    polled: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.polled += [n for v in self.reading.values() for n in ((v,) if isinstance(v, str) else v)]


def _all_points(refs: list[ModelRef]) -> dict[str, Point]:
    points: dict[str, Point] = {}
    for ref in refs:
        for name, point in model_points(ref).items():
            points.setdefault(name, point)  # a second instance of a model is not used
    return points


def _source(ids: Iterable[int]) -> Source:
    manual = "SunSpec information models (pysunspec2 model definitions)"
    return Source(manual=manual, version=f"models {sorted(ids)}")


def points_map(refs: Iterable[ModelRef]) -> RegisterMap:
    """All points of the given models, nothing polled: for one-off reads (ratings, the scan tool)."""
    refs = list(refs)
    return RegisterMap(
        name="sunspec", kind="inverter", source=_source(r.model_id for r in refs), points=_all_points(refs)
    )


def build_map(refs: Iterable[ModelRef], max_power_w: float | None = None) -> RegisterMap:
    """The driver's map: an inverter (701 or legacy 103/101/102) or else a meter (201-204)."""
    refs = list(refs)
    ids = {ref.model_id for ref in refs}
    points = _all_points(refs)
    meter = next((m for m in METER_MODELS if m in ids), None)
    if ids & {701, 101, 102, 103}:
        kind, spec = "inverter", _inverter_spec(ids, max_power_w)
    elif meter is not None:
        kind, spec = "meter", _meter_spec(meter)
    else:
        raise DeviceIOError(f"SunSpec device with models {sorted(ids)}: no inverter (701/10x) or meter (20x)")
    for name in spec.polled:
        points[name] = points[name].model_copy(update={"group": "fast"})
    for name, bounds in spec.ranges.items():
        points[name] = points[name].model_copy(update=bounds)
    return RegisterMap(
        name="sunspec",
        kind=kind,
        driver="sunspec",
        source=_source(ids),
        groups={"fast": 0.0},
        points=points,
        reading=spec.reading,
        state=spec.state,
        commands=spec.commands,
        heartbeat=spec.heartbeat,
    )


def _meter_spec(model_id: int) -> _Spec:
    def p(name: str) -> str:
        return point_name(model_id, name)

    phases = PHASES[model_id]
    reading: dict[str, str | tuple[str, ...]] = {
        # SunSpec meters: W positive = import (power delivered from the grid) [convention per SunSpec 20x]
        "power_w": p("W"),
        "freq_hz": p("Hz"),
        "voltage_v": p("PhV"),
        "reactive_power_var": p("VAR"),
        "import_energy_wh": p("TotWhImp"),
        "export_energy_wh": p("TotWhExp"),
        "phase_voltage_v": tuple(p(f"PhVph{x.upper()}") for x in phases),
        "phase_current_a": tuple(p(f"Aph{x.upper()}") for x in phases),
        "phase_power_w": tuple(p(f"Wph{x.upper()}") for x in phases),
    }
    return _Spec(reading)


def _inverter_spec(ids: set[int], max_power_w: float | None) -> _Spec:
    if 701 in ids:
        reading: dict[str, str | tuple[str, ...]] = {
            "power_w": "m701_w",
            "reactive_power_var": "m701_var",
            "freq_hz": "m701_hz",
            "voltage_v": "m701_lnv",
            "temp_c": "m701_tmpcab",
            "phase_voltage_v": ("m701_vl1", "m701_vl2", "m701_vl3"),
            "phase_current_a": ("m701_al1", "m701_al2", "m701_al3"),
            "phase_power_w": ("m701_wl1", "m701_wl2", "m701_wl3"),
        }
        state = StateRule(point="m701_invst", values=_INVST_701, default="standby", code="m701_alrm")
        polled = ["m701_invst", "m701_alrm"]
    else:  # legacy 1xx: 101/102 carry the same points as 103
        model = min(ids & {101, 102, 103})
        m = f"m{model}_"
        reading = {
            "power_w": m + "w",
            "freq_hz": m + "hz",
            "dc_voltage_v": m + "dcv",
            "temp_c": m + "tmpcab",
            "voltage_v": m + "phvpha",
        }
        state = StateRule(point=m + "st", values=_ST_103, default="standby", code=m + "evt1")
        polled = [m + "st", m + "evt1"]
    commands: dict[str, Command] = {}
    ranges: dict[str, dict[str, float]] = {}
    if 704 in ids:
        # register order (WSetEna, WSetMod, WSet are adjacent): one write-multiple carries enable, mode
        # (1 = watts) and value together; the var value goes before its enable (mode 4 = vars)
        commands["set_power"] = Command(
            steps=(
                Step(write="m704_wsetena", value=1),
                Step(write="m704_wsetmod", value=1),
                Step(write="m704_wset", arg="power_w"),
                Step(write="m704_varset", arg="reactive_power_var"),
                Step(write="m704_varsetena", value=1),
                Step(write="m704_varsetmod", value=4),
            )
        )
        if max_power_w is not None:  # from 702 WMaxRtg: the device refuses more, so do we, first
            ranges["m704_wset"] = {"min": -max_power_w, "max": max_power_w}
        # the same power factor while injecting and while absorbing active power
        commands["set_power_factor"] = Command(
            steps=tuple(
                step
                for mode in ("inj", "abs")
                for step in (
                    Step(write=f"m704_pfw{mode}_pf", arg="power_factor_abs"),
                    Step(write=f"m704_pfw{mode}_ext", arg="excitation"),
                    Step(write=f"m704_pfw{mode}ena", value=1),
                )
            )
        )
        ranges.update({f"m704_pfw{m}_pf": {"min": 0.0, "max": 1.0} for m in ("inj", "abs")})
    elif 124 in ids:
        commands["set_power"] = Command(
            verified=False,
            steps=(
                Step(write="m124_storctl_mod", value=3),
                Step(write="m124_outwrte", arg="discharge_pct"),
                Step(write="m124_inwrte", arg="charge_pct"),
            ),
        )
        ranges.update({"m124_outwrte": {"min": 0, "max": 100}, "m124_inwrte": {"min": 0, "max": 100}})
    heartbeat = None
    if 715 in ids:
        commands["start"] = Command(steps=(Step(write="m715_opctl", value=1),))
        commands["stop"] = Command(steps=(Step(write="m715_opctl", value=0),))
        commands["reset_fault"] = Command(steps=(Step(write="m715_alarmreset", value=1, readback=False),))
        heartbeat = Heartbeat(point="m715_controllerhb", max_interval_s=3600.0)
    return _Spec(reading, state, commands, heartbeat, ranges, polled)
