"""The meter gateway: the site meter's latest reading served again in its original register map.

Devices on the site network that need a meter (an inverter's own export limiter, say) read this
instead of the meter itself, so the meter keeps one master. The map file is the driver's own
(config/devices/), read backwards: each `reading` field that names one point (or one per phase)
fills that point, encoded with the same codec the driver decodes with. Read-only: FC 3 and FC 4
read the same image; writes answer ILLEGAL_ADDRESS.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sitecontroller.core.readings import MeterReading
from sitecontroller.devices import codec
from sitecontroller.devices.maploader import DEFAULT_MAP_DIR, load_map_file
from sitecontroller.devices.regmap import Point, RegisterMap, parse_terms
from sitecontroller.scada.errors import ExceptionCode, ModbusError

MeterProvider = Callable[[], MeterReading | None]


class MeterMapView:
    def __init__(self, regmap: RegisterMap, meter: MeterProvider) -> None:
        self._map = regmap
        self._meter = meter
        self._fields = _inverse(regmap)
        points = regmap.points.values()
        self.start = min(p.address for p in points)
        self.end = max(p.address + p.size for p in points)
        self._constants: dict[str, float | str] = {}
        if regmap.identify is not None:
            self._constants[regmap.identify.point] = regmap.identify.values[0]
        self._last: MeterReading | None = None
        self._image: dict[int, int] = {}
        self._encode(None)

    @classmethod
    def from_name(cls, map_name: str, meter: MeterProvider, map_dir: Path = DEFAULT_MAP_DIR) -> MeterMapView:
        return cls(load_map_file(map_dir / f"{map_name}.json"), meter)

    def read(self, address: int, count: int) -> list[int]:
        reading = self._meter()
        if reading is not self._last:
            self._encode(reading)
        return [self._image.get(a, 0) for a in range(address, address + count)]

    def write(self, address: int, registers: list[int], client: str) -> None:
        raise ModbusError(ExceptionCode.ILLEGAL_ADDRESS, "the meter gateway is read-only")

    def _encode(self, reading: MeterReading | None) -> None:
        self._last = reading
        values = dict(self._constants)
        if reading is not None:
            for point_name, (field, index, sign) in self._fields.items():
                value = getattr(reading, field)
                if isinstance(value, tuple):
                    value = value[index] if index < len(value) else None
                if isinstance(value, int | float):
                    values[point_name] = sign * value
        image: dict[int, int] = {}
        for name, point in self._map.points.items():
            words = _encode(point, values.get(name))
            image.update({point.address + i: w for i, w in enumerate(words)})
        self._image = image


def _encode(point: Point, value: float | str | None) -> list[int]:
    if value is None:
        return _not_available(point)
    if isinstance(value, str):
        return codec.encode_raw(point, value)
    try:
        return codec.encode_raw(point, codec.from_site(point, value))
    except codec.EncodeError:
        return _not_available(point)


def _not_available(point: Point) -> list[int]:
    """The map's sentinel (an unsigned register pattern, as the device shows it), else zeros / NaN."""
    if point.type == "f32":
        return codec.encode_raw(point, float("nan"))
    if point.type == "string" or not point.not_available:
        return [0] * point.size
    data = point.not_available[0].to_bytes(point.size * 2, "big")
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return words[::-1] if point.word_order == "little" else words


def _inverse(regmap: RegisterMap) -> dict[str, tuple[str, int, int]]:
    """point -> (reading field, phase index, sign) for every field a single point carries."""
    fields: dict[str, tuple[str, int, int]] = {}
    for field, expr in regmap.reading.items():
        if isinstance(expr, tuple):
            fields.update({name: (field, index, 1) for index, name in enumerate(expr)})
            continue
        terms = parse_terms(expr)
        if len(terms) == 1:
            sign, name = terms[0]
            fields[name] = (field, 0, sign)
    return fields
