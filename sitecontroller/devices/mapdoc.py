"""Write a Markdown page per register map into docs/devices/ (`python -m sitecontroller.devices.mapdoc`).

The pages are generated from the same files the engine loads, so documentation and behaviour
cannot drift; the SunSpec DER page is generated from pysunspec2's model definitions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sitecontroller.devices import maploader, sunspec
from sitecontroller.devices.regmap import RegisterMap

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "devices"
SUNSPEC_DER_MODELS = (1, 701, 702, 704, 713, 715)


def _cell(value: object) -> str:
    return "" if value is None else str(value).replace("|", "\\|")


def render(regmap: RegisterMap, polled_only: bool = False) -> str:
    src = regmap.source
    lines = [
        f"# {regmap.name} ({regmap.kind})",
        "",
        f"- Source: {src.manual}, version {src.version}" + (f" ({src.url})" if src.url else ""),
        f"- Verified: {'yes' if regmap.verified else '**no, check every register before field use**'}",
        f"- Poll groups: {', '.join(f'{g} every {i or 0} s' for g, i in regmap.groups.items())}",
    ]
    if src.notes:
        lines.append(f"- Notes: {src.notes}")
    if regmap.identify is not None:
        lines.append(f"- Identified by `{regmap.identify.point}` in {list(regmap.identify.values)}")
    lines += [
        "",
        "| Point | Table | Address | Type | Words | Scale | Sign | Unit | Access | Group | Range | "
        "Verified | Description |",
        "|" + "---|" * 13,
    ]
    for name, p in sorted(regmap.points.items(), key=lambda item: (item[1].table, item[1].address)):
        if polled_only and p.group is None and not p.writable:
            continue
        scale = f"10^{p.scale_factor}" if p.scale_factor else f"{p.scale:g}"
        size = f"{p.type}[{p.count}]" if p.type == "string" else p.type
        words = p.word_order if p.size > 1 and p.type != "string" else "-"
        bounds = "" if p.min is None and p.max is None else f"{_cell(p.min)}..{_cell(p.max)}"
        lines.append(
            f"| `{name}` | {p.table} | {p.address} (0x{p.address:04X}) | {size} | {words} | {scale} | "
            f"{'+' if p.sign > 0 else '-'} | {_cell(p.unit)} | {p.access} | {_cell(p.group)} | {bounds} | "
            f"{'yes' if p.verified else 'no'} | {_cell(p.description)} |"
        )
    if regmap.reading:
        lines += ["", "## Reading", ""]
        lines += [
            f"- `{field}` = {', '.join(expr) if isinstance(expr, tuple) else expr}"
            for field, expr in regmap.reading.items()
        ]
    if regmap.state is not None:
        rule = regmap.state
        lines += ["", "## State", "", f"- register `{rule.point}`: {rule.values}, otherwise {rule.default}"]
        if rule.fault:
            lines.append(f"- fault when `{rule.fault}` is non-zero (its value is the fault code)")
        if rule.code:
            lines.append(f"- fault code from `{rule.code}`")
    lines += ["", "## Commands", ""]
    if not regmap.commands:
        lines.append("None: the driver refuses every command for this device.")
    for name, command in regmap.commands.items():
        steps = "; ".join(
            f"`{s.write}` := {s.arg if s.arg is not None else s.value}"
            + ("" if s.readback else " (no read-back)")
            for s in command.steps
        )
        lines.append(f"- **{name}**{'' if command.verified else ' (unverified)'}: {steps}")
    if regmap.heartbeat is not None:
        hb = regmap.heartbeat
        lines.append(f"- **heartbeat**: counter into `{hb.point}`, at least every {hb.max_interval_s:g} s")
    return "\n".join(lines) + "\n"


def write_all(out: Path = DEFAULT_OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    pages = dict(maploader.all_maps())
    der = sunspec.build_map(sunspec.layout(SUNSPEC_DER_MODELS))
    pages["sunspec_der"] = der
    for name, regmap in pages.items():
        path = out / f"{name}.md"
        path.write_text(render(regmap, polled_only=name == "sunspec_der"))
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    for path in write_all(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
