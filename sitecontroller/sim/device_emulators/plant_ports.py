"""Adapters from a plant model to a register map: any inverter or meter map, derived from the map.

The map's `reading` section says how the driver builds a reading from points; these ports invert
it (a "a - b" field is served as a = max(v, 0), b = max(-v, 0)), its state rule gives the state
register, and its set_power command tells which written registers carry the setpoint. So every
map in config/devices/ (and SunSpec) gets an emulator without emulator code per device type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sitecontroller.devices import codec
from sitecontroller.devices.regmap import RegisterMap, parse_terms

FINEST_SCALE_FACTOR = -3


@dataclass(frozen=True, slots=True)
class PlantValues:
    """What the plant shows, in site units and sign (discharge / import positive)."""

    fields: dict[str, float | tuple[float, ...]]
    state: str = "running"
    fault_code: int = 0


def serve_fields(regmap: RegisterMap, values: PlantValues) -> dict[str, float | str]:
    points: dict[str, float | str] = {}
    for name, expr in regmap.reading.items():
        value = values.fields.get(name)
        if value is None:
            continue
        if isinstance(expr, tuple):
            phases = value if isinstance(value, tuple) else (value / len(expr),) * len(expr)
            points.update(zip(expr, phases, strict=False))
            continue
        terms = parse_terms(expr)
        total = float(value)  # type: ignore[arg-type]
        if len(terms) == 1:
            sign, point = terms[0]
            points[point] = sign * total
        else:  # a split pair: the positive-signed term carries positive values, the other the rest
            for sign, point in terms:
                points[point] = max(sign * total, 0.0)
    rule = regmap.state
    if rule is not None:
        if rule.fault is not None:
            points[rule.fault] = values.fault_code if values.state == "fault" else 0
        # a map that signals faults by a fault register needs no fault value in its state register
        fault_by_register = values.state == "fault" and rule.fault is not None
        if rule.point is not None and not fault_by_register:
            points[rule.point] = _state_raw(rule.values, rule.default, values.state)
        if rule.code is not None and values.state == "fault":
            points[rule.code] = values.fault_code
    return _with_scale_factors(regmap, points)


def _state_raw(values: dict[str, str], default: str, state: str) -> int:
    """A raw value the map reads as `state`: a listed one, or any unlisted one for the default."""
    listed = [int(k) for k, v in values.items() if v == state]
    if listed:
        return listed[0]
    if state != default:
        raise ValueError(f"the map cannot express state {state!r}")
    used = {int(k) for k in values}
    return next(raw for raw in range(len(used) + 1) if raw not in used)


def _with_scale_factors(regmap: RegisterMap, points: dict[str, float | str]) -> dict[str, float | str]:
    """SunSpec-style points need a scale factor: the finest (from 10^-3) that fits every value sharing it."""
    for name, value in list(points.items()):
        point = regmap.points[name]
        if point.scale_factor is None or isinstance(value, str):
            continue
        sf = int(points.get(point.scale_factor, FINEST_SCALE_FACTOR))
        while sf < 10:
            try:
                codec.encode_raw(point, codec.from_site(point, value, sf))
                break
            except codec.EncodeError:
                sf += 1
        points[point.scale_factor] = sf
    return points


@dataclass
class InverterPort:
    """PlantPort for an inverter map: `read()` gives the plant's state, `command(power_w)` the setpoint."""

    regmap: RegisterMap
    read: Callable[[], PlantValues]
    command: Callable[[float], None]
    rated_power_w: float
    on_command: Callable[[str], None] | None = None
    extra: dict[str, float | str] = field(default_factory=dict)
    _args: dict[str, float] = field(default_factory=dict)

    def values(self) -> Mapping[str, float | str]:
        return {**self.extra, **serve_fields(self.regmap, self.read())}

    def written(self, point: str, value: float) -> None:
        for name, command in self.regmap.commands.items():
            for step in command.steps:
                if step.write != point:
                    continue
                if step.arg is not None and name == "set_power":
                    self._args[step.arg] = value
                    self.command(self._power_w())
                elif name != "set_power" and self.on_command is not None and value == step.value:
                    self.on_command(name)

    def _power_w(self) -> float:
        args, rated = self._args, self.rated_power_w
        if "power_w" in args:
            return args["power_w"]
        if "power_pct" in args:
            return args["power_pct"] * rated / 100.0
        return (args.get("discharge_pct", 0.0) - args.get("charge_pct", 0.0)) * rated / 100.0


@dataclass
class MeterPort:
    regmap: RegisterMap
    read: Callable[[], PlantValues]
    extra: dict[str, float | str] = field(default_factory=dict)

    def values(self) -> Mapping[str, float | str]:
        return {**self.extra, **serve_fields(self.regmap, self.read())}

    def written(self, point: str, value: float) -> None:
        self.extra[point] = value  # configuration writes (meter setup) read back as written
