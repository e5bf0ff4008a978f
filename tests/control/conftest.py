"""Snapshots for mode-controller tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from masterController.control.snapshot import SiteSnapshot

BASE = SiteSnapshot(
    now_s=0.0,
    wall_s=1_767_225_600.0,  # 2026-01-01T00:00:00Z
    grid_power_w=0.0,
    battery_power_w=0.0,
    soc_pct=50.0,
    max_discharge_w=50_000.0,
    max_charge_w=50_000.0,
)


@pytest.fixture
def snap() -> Callable[..., SiteSnapshot]:
    def make(**changes: Any) -> SiteSnapshot:
        return replace(BASE, **changes)

    return make
