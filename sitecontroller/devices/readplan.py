"""Read coalescing: points of one poll group become as few requests as possible (<= 125 registers).

Neighbouring points merge when the hole between them is at most the map's `max_gap` registers;
reading a few unused registers is cheaper than another round trip (about 0.3 ms on loopback,
15 ms per request at 19200 baud).
"""

from __future__ import annotations

from dataclasses import dataclass

from sitecontroller.devices.regmap import MAX_READ_REGISTERS, RegisterMap


@dataclass(frozen=True, slots=True)
class Block:
    table: str
    start: int
    count: int
    points: tuple[str, ...]


def plan_reads(regmap: RegisterMap, names: list[str], max_gap: int | None = None) -> list[Block]:
    gap = regmap.max_gap if max_gap is None else max_gap
    wanted = set(names)
    for name in names:  # a value is useless without its scale factor, so read them together
        scale_factor = regmap.points[name].scale_factor
        if scale_factor is not None:
            wanted.add(scale_factor)
    blocks: list[Block] = []
    by_table: dict[str, list[str]] = {}
    for name in sorted(wanted, key=lambda n: (regmap.points[n].table, regmap.points[n].address)):
        by_table.setdefault(regmap.points[name].table, []).append(name)
    for table, table_names in by_table.items():
        start = end = -1
        members: list[str] = []
        for name in table_names:
            point = regmap.points[name]
            point_end = point.address + point.size
            if members and point.address - end <= gap and max(end, point_end) - start <= MAX_READ_REGISTERS:
                end = max(end, point_end)
                members.append(name)
                continue
            if members:
                blocks.append(Block(table, start, end - start, tuple(members)))
            start, end, members = point.address, point_end, [name]
        if members:
            blocks.append(Block(table, start, end - start, tuple(members)))
    return blocks
