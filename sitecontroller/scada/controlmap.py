"""The SCADA control register map: data in config/scada/control_map.json, validated as a whole.

Points reuse the device maps' `Point` (address, type, scale, unit, access, min/max) and codec, so the
conversion rules are the same in both directions. A point reads the live value named `key` (default:
its own name) from the server's value table; `enum` turns a string value into its index; `command`
says what a write does. Addresses are 0-based protocol addresses; 32-bit values are high word first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from sitecontroller.core import jsonc
from sitecontroller.devices.regmap import MapModel, Point

DEFAULT_MAP = Path(__file__).resolve().parents[2] / "config" / "scada" / "control_map.json"
# An enum value the map does not list (a newer firmware's state, say) reads as this.
ENUM_OTHER = 0xFFFE

Command = Literal[
    "state",
    "mode",
    "power_w",
    "reactive_power_var",
    "charge_limit_pct",
    "discharge_limit_pct",
    "heartbeat",
    "reset_errors",
]
# Writes a value to these commands must carry, besides the point's own range.
ENUM_COMMANDS = ("state", "mode")


class ControlPoint(Point):
    key: str | None = None
    enum: tuple[str, ...] = ()
    command: Command | None = None

    @model_validator(mode="after")
    def _command_is_writable(self) -> ControlPoint:
        if (self.command is not None) != self.writable:
            raise ValueError("a point is writable exactly when it has a command")
        if self.command in ENUM_COMMANDS and not self.enum:
            raise ValueError(f"command {self.command} needs its `enum`")
        if self.type not in ("u16", "s16", "u32", "s32"):
            raise ValueError("the control map uses u16, s16, u32 and s32 only")
        return self


class ControlMap(MapModel):
    version: int = Field(ge=1, le=0xFFFF)
    name: str
    description: str = ""
    points: dict[str, ControlPoint]

    @model_validator(mode="after")
    def _no_overlap(self) -> ControlMap:
        owner: dict[int, str] = {}
        for name, point in self.points.items():
            for address in range(point.address, point.address + point.size):
                if address in owner:
                    raise ValueError(f"points {owner[address]} and {name} overlap at {address}")
                owner[address] = name
        return self

    def sorted_points(self) -> list[tuple[str, ControlPoint]]:
        return sorted(self.points.items(), key=lambda item: item[1].address)


class ControlMapError(ValueError):
    """The map file is not valid; the message names the file and the problems."""


def load_control_map(path: Path = DEFAULT_MAP) -> ControlMap:
    try:
        data = jsonc.loads(path.read_text())
        for name, point in data.get("points", {}).items():
            point.setdefault("key", name)
        return ControlMap.model_validate(data)
    except (OSError, ValueError, ValidationError, AttributeError) as exc:
        raise ControlMapError(f"{path}: {exc}") from exc
