"""A SunSpec device emulator: the model chain (SunS marker, models, end model) served from a plant.

The map comes from `sitecontroller.devices.sunspec.build_map`, i.e. from pysunspec2's model
definitions, and pysunspec2's own client can scan it: that is the conformance check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sitecontroller.devices.regmap import Point, RegisterMap
from sitecontroller.devices.sunspec import END_MODEL_ID, build_map, layout
from sitecontroller.sim.device_emulators.register_server import PlantPort, RegisterEmulator

DER_INVERTER_MODELS = (1, 701, 702, 704, 713, 715)
LEGACY_INVERTER_MODELS = (1, 103, 124)


class _WithHeaders:
    """The plant's values plus the fixed registers that make the image a SunSpec device."""

    def __init__(self, plant: PlantPort, fixed: dict[str, float]) -> None:
        self._plant = plant
        self._fixed = fixed

    def values(self) -> Mapping[str, float | str]:
        return {**self._fixed, **self._plant.values()}

    def written(self, point: str, value: float) -> None:
        self._plant.written(point, value)


def sunspec_emulator(
    plant: PlantPort, model_ids: Sequence[int] = DER_INVERTER_MODELS, unit: int = 1, base: int = 40000
) -> tuple[RegisterEmulator, RegisterMap]:
    """The emulator and the map our driver would build for the same device (for tests)."""
    refs = layout(model_ids, base)
    regmap = build_map(refs)
    end = refs[-1].address + refs[-1].length + 2
    headers = {
        "sunspec_marker": Point(address=base, type="u32"),
        "sunspec_end_id": Point(address=end, type="u16"),
        "sunspec_end_l": Point(address=end + 1, type="u16"),
    }
    fixed: dict[str, float] = {"sunspec_marker": 0x53756E53, "sunspec_end_id": END_MODEL_ID}
    fixed["sunspec_end_l"] = 0
    for ref in refs:
        fixed[f"m{ref.model_id}_id"] = ref.model_id
        fixed[f"m{ref.model_id}_l"] = ref.length
    served = regmap.model_copy(update={"points": {**regmap.points, **headers}})
    return RegisterEmulator(served, _WithHeaders(plant, fixed), unit=unit), regmap
