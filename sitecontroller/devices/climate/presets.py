"""Per-product climate parameter sets (BAT5/BAT10/BAT80), read from config/devices/climate_presets.json."""

from __future__ import annotations

import json
from pathlib import Path

from sitecontroller.config.devices import ClimateConfig, ClimateParameters
from sitecontroller.core import jsonc
from sitecontroller.devices.maploader import DEFAULT_MAP_DIR

PRESETS_FILE = DEFAULT_MAP_DIR / "climate_presets.json"


def load_presets(path: Path = PRESETS_FILE) -> dict[str, ClimateParameters]:
    # through JSON text so the strict config model sees JSON types, as for the site configuration
    data = jsonc.loads(path.read_text())
    return {name: ClimateParameters.model_validate_json(json.dumps(values)) for name, values in data.items()}


def parameters_for(config: ClimateConfig, path: Path = PRESETS_FILE) -> ClimateParameters:
    """The preset when one is named, else the explicit parameters of the configuration."""
    if not config.preset:
        return config.parameters
    return load_presets(path)[config.preset]
