"""Load and validate register-map files (JSON with comments) from config/devices/.

Two conveniences keep maps free of copy-paste: `"defaults"` fills point fields a point does not
set (table, word order, group…), and `"extends": "other.json"` starts from another map and
overrides it (ABB ESI-S starts from the PQstorI table).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sitecontroller.core import jsonc
from sitecontroller.devices.regmap import RegisterMap

MAP_KINDS = ("inverter", "meter")
DEFAULT_MAP_DIR = Path(__file__).resolve().parents[2] / "config" / "devices"


class MapError(ValueError):
    """A map file that is not valid; the message names the file and every problem."""


def _raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    if path in seen:
        raise MapError(f"{path}: `extends` loops back on itself")
    try:
        data = jsonc.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MapError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise MapError(f"{path}: a map is a JSON object")
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data
    parent = _raw(path.parent / parent_name, (*seen, path))
    merged = {**parent, **data}
    # the parent's points get the parent's defaults now; the child's points get both, child first
    merged["points"] = {**_with_defaults(parent), **data.get("points", {})}
    merged["defaults"] = {**parent.get("defaults", {}), **data.get("defaults", {})}
    merged["commands"] = {**parent.get("commands", {}), **data.get("commands", {})}
    return merged


def _with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    defaults = data.get("defaults", {})
    return {name: {**defaults, **point} for name, point in data.get("points", {}).items()}


def load_map_file(path: Path) -> RegisterMap:
    data = _raw(path)
    data["points"] = _with_defaults(data)
    data.pop("defaults", None)
    data.pop("$schema", None)
    try:
        return RegisterMap.model_validate(data)
    except ValidationError as exc:
        raise MapError(f"{path}: {exc}") from exc


def load_map(name: str, map_dir: Path = DEFAULT_MAP_DIR) -> RegisterMap:
    path = map_dir / f"{name}.json"
    if not path.is_file():
        raise MapError(f"no register map {name!r} in {map_dir}")
    return load_map_file(path)


def all_maps(map_dir: Path = DEFAULT_MAP_DIR) -> dict[str, RegisterMap]:
    """Every register map in the directory; other JSON files there (IO configs, presets) are skipped."""
    maps: dict[str, RegisterMap] = {}
    for path in sorted(map_dir.glob("*.json")):
        if _raw(path).get("kind") in MAP_KINDS:
            regmap = load_map_file(path)
            maps[regmap.name] = regmap
    return maps


def family_maps(family: str, map_dir: Path = DEFAULT_MAP_DIR) -> list[RegisterMap]:
    return [m for m in all_maps(map_dir).values() if m.family == family]
