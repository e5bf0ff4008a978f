"""Registers <-> site values for one point: type, word order, scale, sign, not-available sentinels.

Pure functions, shared by the drivers and the emulators, so a map's conversion is proven in
both directions by the same code the device side uses.
"""

from __future__ import annotations

import math
import struct

from sitecontroller.devices.regmap import Point

_FORMATS = {"u16": ">H", "s16": ">h", "u32": ">I", "s32": ">i", "u64": ">Q", "s64": ">q", "f32": ">f"}
_RAW_RANGE = {
    "u16": (0, 0xFFFF),
    "s16": (-0x8000, 0x7FFF),
    "u32": (0, 0xFFFFFFFF),
    "s32": (-0x80000000, 0x7FFFFFFF),
    "u64": (0, 2**64 - 1),
    "s64": (-(2**63), 2**63 - 1),
}


class EncodeError(ValueError):
    """A value the point cannot carry (outside its declared range or its register type)."""


def _words(data: bytes, word_order: str) -> list[int]:
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return words[::-1] if word_order == "little" else words


def _bytes(registers: list[int], word_order: str) -> bytes:
    ordered = registers[::-1] if word_order == "little" else registers
    return b"".join(r.to_bytes(2, "big") for r in ordered)


def decode_raw(point: Point, registers: list[int]) -> int | float | str:
    if len(registers) != point.size:
        raise ValueError(f"expected {point.size} registers, got {len(registers)}")
    if point.type == "string":
        return _bytes(registers, "big").split(b"\x00", 1)[0].decode("ascii", "replace").strip()
    return struct.unpack(_FORMATS[point.type], _bytes(registers, point.word_order))[0]  # type: ignore[no-any-return]


def encode_raw(point: Point, raw: int | float | str) -> list[int]:
    if point.type == "string":
        data = str(raw).encode("ascii")[: point.size * 2].ljust(point.size * 2, b"\x00")
        return _words(data, "big")
    if point.type != "f32":
        low, high = _RAW_RANGE[point.type]
        if not low <= int(raw) <= high:
            raise EncodeError(f"raw value {raw} does not fit {point.type}")
        raw = int(raw)
    return _words(struct.pack(_FORMATS[point.type], raw), point.word_order)


def is_not_available(point: Point, registers: list[int]) -> bool:
    if point.type in ("string", "f32"):
        raw = decode_raw(point, registers)
        return isinstance(raw, float) and math.isnan(raw)
    # sentinels are written as the device shows them: unsigned register patterns
    pattern = int.from_bytes(_bytes(registers, point.word_order), "big")
    return pattern in point.not_available


def to_site(point: Point, raw: int | float, sf: int = 0) -> float:
    return float(raw) * point.scale * (10.0**sf) * point.sign + point.offset


def from_site(point: Point, value: float, sf: int = 0) -> int | float:
    """Site value -> raw register value (rounded for integer types)."""
    raw = (value - point.offset) / (point.scale * (10.0**sf) * point.sign)
    return raw if point.type == "f32" else round(raw)


def check_range(name: str, point: Point, value: float) -> None:
    """Refuse a write outside the map's declared range before anything reaches the wire."""
    if not math.isfinite(value):
        raise EncodeError(f"{name}: {value} is not a number")
    if point.min is not None and value < point.min:
        raise EncodeError(f"{name}: {value} {point.unit} is below the minimum {point.min}")
    if point.max is not None and value > point.max:
        raise EncodeError(f"{name}: {value} {point.unit} is above the maximum {point.max}")
