"""The register-map schema: what a map file in config/devices/ may say, validated as a whole.

Addresses are 0-based protocol addresses (what goes on the wire). Values are converted to site
units and sign at the edge: site = (raw * scale [* 10**sf]) * sign + offset, so a device that
reports charge as positive power declares `"sign": -1`, and nothing past the driver flips signs.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

PointType = Literal["u16", "s16", "u32", "s32", "u64", "s64", "f32", "string"]
Table = Literal["holding", "input", "coil"]
WordOrder = Literal["big", "little"]
StateName = Literal["off", "standby", "ready", "running", "grid_forming", "fault"]

REGISTERS_PER_TYPE: dict[str, int] = {
    "u16": 1,
    "s16": 1,
    "u32": 2,
    "s32": 2,
    "u64": 4,
    "s64": 4,
    "f32": 2,
}
MAX_READ_REGISTERS = 125


def _int_or_hex(value: object) -> object:
    """Manuals give addresses in hex; JSON has no hex literals, so "0x0028" strings are accepted."""
    return int(value, 0) if isinstance(value, str) else value


HexInt = Annotated[int, BeforeValidator(_int_or_hex)]
_TERM = re.compile(r"\s*([+-]?)\s*([a-z][a-z0-9_]*)\s*")


class MapModel(BaseModel):
    """Map files are JSON: lax about list-vs-tuple, strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(MapModel):
    manual: str = Field(min_length=1)
    version: str = Field(min_length=1)
    url: str = ""
    notes: str = ""


class Point(MapModel):
    address: HexInt = Field(ge=0, le=65535)
    table: Table = "holding"
    type: PointType = "u16"
    count: int = Field(default=0, ge=0, le=125, description="registers, for strings only")
    word_order: WordOrder = "big"
    scale: float = 1.0
    scale_factor: str | None = None
    sign: Literal[1, -1] = 1
    offset: float = 0.0
    unit: str = ""
    not_available: tuple[HexInt, ...] = ()
    access: Literal["r", "w", "rw"] = "r"
    group: str | None = None
    min: float | None = None
    max: float | None = None
    verified: bool = True
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Point:
        if self.type == "string" and self.count == 0:
            raise ValueError("a string point needs `count` registers")
        if self.type != "string" and self.count:
            raise ValueError("`count` is only for strings")
        if self.scale == 0:
            raise ValueError("scale 0 would lose the value")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min above max")
        if self.table == "coil" and self.type != "u16":
            raise ValueError("coils are u16 0/1")
        return self

    @property
    def size(self) -> int:
        return self.count if self.type == "string" else REGISTERS_PER_TYPE[self.type]

    @property
    def readable(self) -> bool:
        return "r" in self.access

    @property
    def writable(self) -> bool:
        return "w" in self.access


class Step(MapModel):
    """One write of a command: a constant `value` or a command argument `arg`."""

    write: str
    value: float | None = None
    arg: str | None = None
    readback: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> Step:
        if (self.value is None) == (self.arg is None):
            raise ValueError("a step writes exactly one of `value` or `arg`")
        return self


class Command(MapModel):
    steps: tuple[Step, ...] = Field(min_length=1)
    verified: bool = True
    description: str = ""


class Heartbeat(MapModel):
    """A register the client must keep changing, or the device trips (its own comms watchdog)."""

    point: str
    max_interval_s: float = Field(gt=0.0)


class StateRule(MapModel):
    """Device state from an enum register; a non-zero `fault` point always means FAULT.

    `code` names the point that carries the fault code when the state register says fault
    (SunSpec's alarm bitfield); without it the state value itself is reported as the code.
    """

    point: str | None = None
    values: dict[str, StateName] = {}
    default: StateName = "running"
    fault: str | None = None
    code: str | None = None
    verified: bool = True


class Flag(MapModel):
    point: str
    mask: HexInt = Field(ge=1)


class Identify(MapModel):
    point: str
    values: tuple[HexInt, ...] = Field(min_length=1)


class RegisterMap(MapModel):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    kind: Literal["inverter", "meter"]
    driver: str = "map"
    family: str = ""
    source: Source
    verified: bool = True
    max_gap: int = Field(default=8, ge=0, le=64)
    groups: dict[str, float] = {"fast": 0.0}
    points: dict[str, Point]
    identify: Identify | None = None
    reading: dict[str, str | tuple[str, ...]] = {}
    state: StateRule | None = None
    flags: dict[str, Flag] = {}
    commands: dict[str, Command] = {}
    heartbeat: Heartbeat | None = None

    @model_validator(mode="after")
    def _references(self) -> RegisterMap:
        problems: list[str] = []
        for name, point in self.points.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                problems.append(f"point name {name!r} must be snake_case")
            if point.group is not None and point.group not in self.groups:
                problems.append(f"point {name}: unknown group {point.group!r}")
            if point.group is not None and not point.readable:
                problems.append(f"point {name}: write-only points cannot be polled")
            if point.scale_factor is not None and point.scale_factor not in self.points:
                problems.append(f"point {name}: unknown scale_factor point {point.scale_factor!r}")
        for field, expr in self.reading.items():
            names = expr if isinstance(expr, tuple) else [n for _, n in parse_terms(expr)]
            problems += [f"reading {field}: unknown point {n!r}" for n in names if n not in self.points]
        for name, command in self.commands.items():
            for step in command.steps:
                problems += self._check_write(f"command {name}", step.write)
        if self.heartbeat is not None:
            problems += self._check_write("heartbeat", self.heartbeat.point)
        refs = [(f"flag {k}", f.point) for k, f in self.flags.items()]
        if self.identify is not None:
            refs.append(("identify", self.identify.point))
        if self.state is not None:
            state_points = (self.state.point, self.state.fault, self.state.code)
            refs += [("state", p) for p in state_points if p is not None]
        problems += [f"{what}: unknown point {p!r}" for what, p in refs if p not in self.points]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _check_write(self, what: str, point_name: str) -> list[str]:
        point = self.points.get(point_name)
        if point is None:
            return [f"{what}: unknown point {point_name!r}"]
        if not point.writable:
            return [f"{what}: point {point_name!r} is read-only"]
        return []


def parse_terms(expr: str) -> list[tuple[int, str]]:
    """'p_discharge_w - p_charge_w' -> [(1, 'p_discharge_w'), (-1, 'p_charge_w')]."""
    terms: list[tuple[int, str]] = []
    pos = 0
    while pos < len(expr):
        match = _TERM.match(expr, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot parse reading expression {expr!r}")
        if terms and not match.group(1):
            raise ValueError(f"missing + or - in {expr!r}")
        terms.append((-1 if match.group(1) == "-" else 1, match.group(2)))
        pos = match.end()
    if not terms:
        raise ValueError("empty reading expression")
    return terms
