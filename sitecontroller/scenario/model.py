"""Scenario files (JSON): a simulated site running a mode, or a grid-service test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from sitecontroller.config.base import StrictModel
from sitecontroller.config.control import ControlConfig, ModeName


class NodeSpec(StrictModel):
    node_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    capacity_kwh: float = Field(50.0, gt=0.0, le=100_000.0)
    soc_pct: float = Field(50.0, ge=0.0, le=100.0)
    max_power_kw: float = Field(25.0, gt=0.0, le=100_000.0)


class Event(StrictModel):
    """`load_step`: add power_kw of load from t_s on. `grid_loss`: grid down for duration_s.
    `mode`: switch to `mode` (as a local command)."""

    t_s: float = Field(ge=0.0)
    kind: Literal["load_step", "grid_loss", "mode"]
    power_kw: float = Field(0.0, ge=-100_000.0, le=100_000.0)
    duration_s: float = Field(0.0, ge=0.0)
    mode: ModeName | None = None

    @model_validator(mode="after")
    def _complete(self) -> Event:
        if self.kind == "mode" and self.mode is None:
            raise ValueError("a mode event needs `mode`")
        if self.kind == "grid_loss" and self.duration_s <= 0:
            raise ValueError("a grid_loss event needs duration_s > 0")
        return self


class SiteScenario(StrictModel):
    kind: Literal["site"] = "site"
    name: str = Field("scenario", min_length=1, max_length=80)
    duration_s: float = Field(86_400.0, gt=0.0, le=7 * 86_400.0)
    start_time_of_day_s: float = Field(0.0, ge=0.0, lt=86_400.0)
    plant_dt_s: float = Field(0.5, gt=0.0, le=10.0)
    sample_s: float = Field(60.0, gt=0.0, le=3600.0)
    mode: ModeName = ModeName.SELF_CONSUMPTION
    control: ControlConfig = ControlConfig()
    nodes: tuple[NodeSpec, ...] = (NodeSpec(node_id="node1"), NodeSpec(node_id="node2"))
    pv_peak_kw: float = Field(30.0, ge=0.0)
    load_base_kw: float = Field(5.0, ge=0.0)
    load_peak_kw: float = Field(25.0, ge=0.0)
    events: tuple[Event, ...] = ()

    @model_validator(mode="after")
    def _unique_nodes(self) -> SiteScenario:
        ids = [n.node_id for n in self.nodes]
        if not ids or len(set(ids)) != len(ids):
            raise ValueError("nodes must be non-empty with unique node_id")
        if self.plant_dt_s > self.control.cycle_s:
            raise ValueError("plant_dt_s must not exceed the control cycle")
        return self


class GridTestScenario(StrictModel):
    kind: Literal["gridtest"]
    name: str = Field("gridtest", min_length=1, max_length=80)
    service: Literal["fcrd-up", "fcrd-down", "fcrn", "ffr", "lfsm-o"]
    test: str | None = None
    profile: str | None = None  # path of a t_s,freq_hz CSV, relative to the scenario file
    capacity_kw: float = Field(gt=0.0)
    energy_kwh: float = Field(gt=0.0)
    soc_pct: float = Field(50.0, ge=0.0, le=100.0)
    freq_lag_s: float = Field(0.0, ge=0.0, le=5.0)


def load_scenario(path: Path) -> SiteScenario | GridTestScenario:
    """Parse a scenario file; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        kind = json.loads(text).get("kind", "site")
    except (json.JSONDecodeError, AttributeError):
        raise ValueError(f"{path}: not a JSON object") from None
    try:
        if kind == "gridtest":
            return GridTestScenario.model_validate_json(text)
        return SiteScenario.model_validate_json(text)
    except ValidationError as exc:
        raise ValueError(f"{path}: invalid scenario:\n{exc}") from None
