"""Turn a map's `reading` section into reading-dataclass fields from the engine's fresh values."""

from __future__ import annotations

from sitecontroller.devices.engine import RegisterDevice
from sitecontroller.devices.regmap import parse_terms


def current(device: RegisterDevice, name: str, timeout_s: float) -> float | None:
    """A point's value if it is fresh for its poll group (slow groups may be older by their interval)."""
    group = device.regmap.points[name].group
    interval_s = device.regmap.groups.get(group, 0.0) if group is not None else 0.0
    return device.number(name, interval_s + timeout_s)


def reading_fields(device: RegisterDevice, timeout_s: float) -> dict[str, object]:
    """Scalar fields are sums of signed points (None if any part is missing); tuples are per phase."""
    fields: dict[str, object] = {}
    for field, expr in device.regmap.reading.items():
        if isinstance(expr, tuple):
            phases = [current(device, name, timeout_s) for name in expr]
            fields[field] = () if None in phases else tuple(phases)
            continue
        total = 0.0
        for sign, name in parse_terms(expr):
            value = current(device, name, timeout_s)
            if value is None:
                fields[field] = None
                break
            total += sign * value
        else:
            fields[field] = total
    return fields
