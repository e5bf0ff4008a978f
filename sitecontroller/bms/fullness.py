"""Fully charged / fully discharged detection with hysteresis, recorded in sysinfo.

Full when the SoC reaches the threshold or the highest cell reaches the full voltage; the state
is released only below a lower SoC and with the cell back under the voltage, so a pack hovering at
the threshold records one event, not one per update.
"""

from __future__ import annotations

from sitecontroller.config.bms import FullnessConfig
from sitecontroller.runtime.sysinfo import SysInfo


class FullnessDetector:
    def __init__(self, params: FullnessConfig, sysinfo: SysInfo) -> None:
        self._p = params
        self._sysinfo = sysinfo
        self.full = False
        self.empty = False

    def update(
        self, soc_pct: float, cell_max_v: float | None, cell_min_v: float | None, wall_s: float
    ) -> None:
        p = self._p
        high_v = cell_max_v is not None and cell_max_v >= p.full_cell_voltage_v
        low_v = cell_min_v is not None and cell_min_v <= p.empty_cell_voltage_v
        if not self.full and (soc_pct >= p.full_soc_pct or high_v):
            self.full = True
            self._sysinfo.last_fully_charged_wall_s = wall_s
        elif self.full and soc_pct < p.full_release_soc_pct and not high_v:
            self.full = False
        if not self.empty and (soc_pct <= p.empty_soc_pct or low_v):
            self.empty = True
            self._sysinfo.last_fully_discharged_wall_s = wall_s
        elif self.empty and soc_pct > p.empty_release_soc_pct and not low_v:
            self.empty = False
